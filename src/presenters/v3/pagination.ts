import type { Paging } from '../../messages/list-query.ts'

export interface ListRequest {
  readonly baseUrl: string
  readonly path: string
  readonly rawQuery: Readonly<Record<string, string | string[]>>
}

function href(req: ListRequest, page: number, perPage: number): { href: string } {
  const params = new URLSearchParams()
  const query: Record<string, string | string[]> = { ...req.rawQuery, page: String(page), per_page: String(perPage) }
  for (const k of Object.keys(query).sort()) {
    const v = query[k]!
    for (const value of Array.isArray(v) ? v : [v]) params.append(k, value)
  }
  return { href: `${req.baseUrl}${req.path}?${params.toString()}` }
}

/** CC's v3 list envelope; hrefs are absolute and keep the caller's filters. */
export function presentList<T>(
  req: ListRequest,
  paging: Paging,
  total: number,
  resources: readonly T[],
  extra: Record<string, unknown> = {},
) {
  const totalPages = Math.max(1, Math.ceil(total / paging.perPage))
  return {
    pagination: {
      total_results: total,
      total_pages: totalPages,
      first: href(req, 1, paging.perPage),
      last: href(req, totalPages, paging.perPage),
      next: paging.page < totalPages ? href(req, paging.page + 1, paging.perPage) : null,
      previous: paging.page > 1 ? href(req, paging.page - 1, paging.perPage) : null,
    },
    resources,
    ...extra,
  }
}

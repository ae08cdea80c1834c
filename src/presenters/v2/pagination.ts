// The v2 list envelope and its prev/next links, encoded as CC's Addressable does.
import { type RawQuery, type V2Paging, last, qValues } from '../../messages/v2-query.ts'

/**
 * Addressable's query encoding after `normalize`, as CC builds prev_url/next_url: unreserved
 * characters, sub-delimiters, `:`, `@`, `/` and `?` stay literal; `&`, `+` and the rest are
 * percent-encoded.
 */
export function addressableEncode(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => {
    const c = String.fromCharCode(b)
    return b < 0x80 && /[A-Za-z0-9\-._~!$'()*,;=:@/?]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }).join('')
}

/** prev_url/next_url: a relative path with the caller's q and relation options, keys sorted. */
export function v2PageUrl(path: string, raw: RawQuery, paging: V2Paging, page: number): string {
  const params: [string, string[]][] = [
    ['order-direction', [paging.direction]],
    ['page', [String(page)]],
    ['results-per-page', [String(paging.perPage)]],
  ]
  const q = qValues(raw)
  if (q.length) params.push(['q', q])
  for (const k of ['inline-relations-depth', 'orphan-relations', 'exclude-relations', 'include-relations', 'order-by']) {
    const v = raw[k]
    if (v !== undefined) params.push([k, [last(v)!]])
  }
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const query = params.flatMap(([k, vs]) => vs.map((v) => `${addressableEncode(k)}=${addressableEncode(v)}`)).join('&')
  return `${path}?${query}`
}

/** The v2 list envelope: Sequel's pagination (at least one page; prev is page-1 even past the end). */
export function v2Envelope<T>(path: string, raw: RawQuery, paging: V2Paging, total: number, resources: readonly T[]) {
  const totalPages = Math.max(1, Math.ceil(total / paging.perPage))
  return {
    total_results: total,
    total_pages: totalPages,
    prev_url: paging.page > 1 ? v2PageUrl(path, raw, paging, paging.page - 1) : null,
    next_url: paging.page < totalPages ? v2PageUrl(path, raw, paging, paging.page + 1) : null,
    resources,
  }
}

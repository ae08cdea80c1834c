import { z } from 'zod'

/** Repeated query keys arrive as arrays; CF reads the last value. */
const scalar = z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), z.string())

/** cf escapes commas inside a value as `%2C` before form-encoding; a stray `%` stays as sent. */
function decodeValue(x: string): string {
  try {
    return decodeURIComponent(x)
  } catch {
    return x
  }
}

/** A comma-separated list filter such as `names=a,b`. */
export const listFilter = scalar.transform((s) => s.split(',').map(decodeValue))

export const page = scalar
  .refine((s) => /^\d+$/.test(s) && Number(s) >= 1, { message: 'Page must be a positive integer' })
  .transform(Number)

export const perPage = scalar
  .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 5000, {
    message: 'Per page must be between 1 and 5000',
  })
  .transform(Number)

export function orderBy<const C extends readonly [string, ...string[]]>(columns: C) {
  const allowed = columns.flatMap((c) => [c, `+${c}`, `-${c}`])
  return scalar
    .refine((s) => allowed.includes(s), {
      message: `Order by can only be: ${columns.map((c) => `'${c}'`).join(', ')}`,
    })
    .transform((s) => ({
      column: s.replace(/^[-+]/, '') as C[number],
      direction: s.startsWith('-') ? ('desc' as const) : ('asc' as const),
    }))
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** `created_ats=t1,t2` or `created_ats[lt]=t`; timestamps are RFC 3339 in UTC, as CC requires. */
export function timestampFilters(field: 'created_ats' | 'updated_ats') {
  const times = scalar
    .refine((s) => s.split(',').every((t) => RFC3339_UTC.test(t) && !Number.isNaN(Date.parse(t))), {
      // ActiveModel's full message: the humanized attribute, then the validator's text.
      message: `${field[0]!.toUpperCase()}${field.slice(1).replace('_', ' ')} has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'`,
    })
    .transform((s) => s.split(',').map((t) => new Date(t)))
  const one = times.refine((ts) => ts.length === 1, { message: `Operator requires a single timestamp in ${field}` })
  return {
    [field]: times.optional(),
    [`${field}[lt]`]: one.optional(),
    [`${field}[lte]`]: one.optional(),
    [`${field}[gt]`]: one.optional(),
    [`${field}[gte]`]: one.optional(),
  } as Record<string, z.ZodOptional<typeof times>>
}

export const labelSelector = scalar

export const pagingShape = { page: page.optional(), per_page: perPage.optional() }

export interface Paging {
  readonly page: number
  readonly perPage: number
}

export function pagingOf(q: { page?: number; per_page?: number }, defaultPerPage = 50): Paging {
  return { page: q.page ?? 1, perPage: q.per_page ?? defaultPerPage }
}

export type TimestampOps = Partial<Record<'eq' | 'lt' | 'lte' | 'gt' | 'gte', Date[]>>

/** Collects `created_ats`, `created_ats[lt]`, … from a parsed query into operator → values. */
export function timestampOps(q: Record<string, unknown>, field: 'created_ats' | 'updated_ats'): TimestampOps {
  const ops: TimestampOps = {}
  if (q[field]) ops.eq = q[field] as Date[]
  for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
    const v = q[`${field}[${op}]`]
    if (v) ops[op] = v as Date[]
  }
  return ops
}

/**
 * A list endpoint's query schema: paging, order_by, the named comma-list filters, timestamp
 * filters, label_selector and include. Unknown parameters are rejected, as CC does.
 */
export function listQuery<const F extends readonly string[], const O extends readonly [string, ...string[]]>(spec: {
  filters: F
  orderBy: O
  labels?: boolean
  include?: readonly string[]
  extra?: Record<string, z.ZodType>
}) {
  const shape: Record<string, z.ZodType> = {
    ...pagingShape,
    order_by: orderBy(spec.orderBy).optional(),
    ...timestampFilters('created_ats'),
    ...timestampFilters('updated_ats'),
    ...spec.extra,
  }
  for (const f of spec.filters) shape[f] = listFilter.optional()
  if (spec.labels) shape.label_selector = labelSelector.optional()
  if (spec.include) {
    const allowed = spec.include
    shape.include = listFilter
      .refine((xs) => xs.every((x) => allowed.includes(x)), {
        message: `Invalid included resource: valid values are ${allowed.map((x) => `'${x}'`).join(', ')}`,
      })
      .optional()
  }
  return z.object(shape).strict() as unknown as z.ZodType<
    { [K in F[number]]?: string[] } & {
      page?: number
      per_page?: number
      order_by?: { column: O[number]; direction: 'asc' | 'desc' }
      label_selector?: string
      include?: string[]
    } & Record<string, unknown>
  >
}

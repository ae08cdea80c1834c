import { z } from 'zod'
import { LABEL_SELECTOR_PATTERN } from './label-selector.ts'
import { fitsInt, MAX_DB_INT, tooLarge } from './numbers.ts'
import { TEXT_PATTERN, textProblem } from './text.ts'

// Each refinement below states, in `.meta()`, the JSON Schema of what it accepts, so /openapi.json
// (src/http/openapi.ts) is as strict as the check: zod cannot see inside a refinement. The schema may
// be a little narrower than the check (a day of month up to 28), never wider.

/** Escapes `s` for use inside a JSON Schema (ECMA-262) pattern. */
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A comma-separated list of values matching `item` (a pattern without anchors). */
export const commaList = (item: string) => `^(?:${item})(?:,(?:${item}))*$`

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
export const listFilter = scalar
  .transform((s) => s.split(',').map(decodeValue))
  // The second decoding can make what the text rule refused on the way in (`%2500` → NUL).
  .refine((xs) => xs.every((x) => !textProblem(x)), { message: 'must not contain NUL characters or unpaired surrogates' })
  // The text rule, plus no `%00` that the second decoding would turn into NUL.
  .meta({ pattern: `^(?!.*%00)${TEXT_PATTERN.slice(1)}` })

const EXTENSION = 'cf-ledger extension'

/** A query parameter CC does not have: accepted, but not listed among CC's valid parameters. */
export const extensionParam = <T extends z.ZodType>(schema: T): T => schema.describe(EXTENSION)

export const isExtensionParam = (schema: z.ZodType | undefined): boolean => schema?.description === EXTENSION

export const page = scalar
  .refine((s) => /^\d+$/.test(s) && Number(s) >= 1, { message: 'Page must be a positive integer', abort: true })
  .refine(fitsInt, { message: tooLarge('Page', MAX_DB_INT) })
  .transform(Number)
  .meta({ type: 'integer', minimum: 1, maximum: MAX_DB_INT })

export const perPage = scalar
  .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 5000, {
    message: 'Per page must be between 1 and 5000',
  })
  .transform(Number)
  .meta({ type: 'integer', minimum: 1, maximum: 5000 })

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
    .meta({ enum: allowed })
}

/** CC's opinionated ISO 8601: whole seconds, UTC (`TimestampValidator#opinionated_iso_8601`). */
const CC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
/** The same as a pattern, limited to dates that always exist. */
const TIMESTAMP_PATTERN = '[12]\\d{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\dZ'

/** Rails' `humanize` of an attribute, as ActiveModel prefixes its messages: `created_ats` → `Created ats`. */
export function humanize(attr: string): string {
  const s = attr.replace(/_/g, ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/**
 * `created_ats=t1,t2` or `created_ats[lt]=t`; timestamps are whole seconds in UTC, as CC requires.
 * The messages are CC's (TimestampValidator) with ActiveModel's attribute prefix.
 */
export function timestampFilters(field: 'created_ats' | 'updated_ats') {
  const formatMessage = `${humanize(field)} has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'`
  const valid = (t: string) => CC_TIMESTAMP.test(t) && !Number.isNaN(Date.parse(t))
  const times = scalar
    .refine((s) => s.split(',').every(valid), { message: formatMessage })
    .transform((s) => s.split(',').map((t) => new Date(t)))
    .meta({ pattern: commaList(TIMESTAMP_PATTERN) })
  const one = scalar
    .refine((s) => !s.includes(','), { message: `${humanize(field)} only accepts one value when using a relational operator`, abort: true })
    .refine(valid, { message: formatMessage })
    .transform((s) => [new Date(s)])
    .meta({ pattern: `^${TIMESTAMP_PATTERN}$` })
  return {
    [field]: times.optional(),
    [`${field}[lt]`]: one.optional(),
    [`${field}[lte]`]: one.optional(),
    [`${field}[gt]`]: one.optional(),
    [`${field}[gte]`]: one.optional(),
  } as Record<string, z.ZodOptional<typeof times>>
}

/**
 * Rack parses `created_ats[lt]=t` into a nested hash and CC validates the operator; a bracketed
 * key a schema does not list gets CC's message for its base attribute, or `undefined` when the
 * base attribute is unknown too (then it is an unknown parameter).
 */
export function bracketKeyError(shapeKeys: readonly string[], key: string): string | undefined {
  const m = /^([^[\]]+)\[([^\]]*)\]$/.exec(key)
  if (!m || !shapeKeys.includes(m[1]!)) return undefined
  const [, base, op] = m as unknown as [string, string, string]
  if (shapeKeys.includes(`${base}[lt]`)) return `${humanize(base)} Invalid relational operator: '${op}'`
  if (shapeKeys.includes(`${base}[not]`)) return `${humanize(base)} ${base} has an invalid operator`
  return `${humanize(base)} must be an array`
}

/** The base parameter of a bracketed key (`created_ats[lt]` → `created_ats`), as CC names it. */
export function baseKey(key: string): string {
  return key.replace(/\[[^\]]*\]$/, '')
}

/** `sequence_ids=1,2`: integers that fit an int column (nine digits always do). */
export const sequenceIds = listFilter
  .refine((xs) => xs.every(fitsInt), { message: 'Sequence ids must be integers' })
  .transform((xs) => xs.map(Number))
  .meta({ pattern: commaList('[0-9]{1,9}') })

/** Parsed (and refused) by the list handlers (label-selector.ts); the pattern says what that accepts. */
export const labelSelector = scalar.meta({ pattern: LABEL_SELECTOR_PATTERN })

/** The pattern of an `include` parameter: a comma-separated list of the allowed resources. */
export const includePattern = (allowed: readonly string[]) => commaList(allowed.map(escapeRe).join('|'))

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
export function listQuery<
  const F extends readonly string[],
  const O extends readonly [string, ...string[]],
  E extends Record<string, z.ZodType> = Record<never, z.ZodType>,
>(spec: { filters: F; orderBy: O; labels?: boolean; include?: readonly string[]; extra?: E }) {
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
      .meta({ pattern: includePattern(allowed) })
      .optional()
  }
  return z.object(shape).strict() as unknown as z.ZodType<
    { [K in F[number]]?: string[] } & {
      page?: number
      per_page?: number
      order_by?: { column: O[number]; direction: 'asc' | 'desc' }
      label_selector?: string
      include?: string[]
    } & { [K in keyof E]: z.output<E[K]> } & Record<string, unknown>
  >
}

// The v2 list parameters (BaseController#parse_params, VCAP::RestAPI::Query,
// PaginatedCollectionRenderer), validated so a malformed value is a 400, never a 500.
import { apiError } from '../errors/api-error.ts'
import type { EventColumn, StringCondition, StringOp } from '../queries/events.ts'
import type { TimestampOps } from './list-query.ts'
import { fitsInt, MAX_DB_INT, tooLarge } from './numbers.ts'

export const DEFAULT_RESULTS_PER_PAGE = 50
export const MAX_RESULTS_PER_PAGE = 100
const MAX_INLINE_RELATIONS_DEPTH = 2

export interface V2Paging {
  readonly page: number
  readonly perPage: number
  readonly direction: 'asc' | 'desc'
}

export interface V2Filter {
  readonly conditions: StringCondition[]
  readonly createdAt: TimestampOps[]
  /** `q=timestamp:` with no value: CC compares with NULL, which matches nothing. */
  never: boolean
}

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>

/** Sinatra keeps the last of repeated scalar parameters. */
export function last(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v
}

function positiveInt(raw: RawQuery, key: string): number | undefined {
  const v = last(raw[key])
  if (v === undefined) return undefined
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < 1) throw apiError('BadQueryParameter', `${key} must be a positive integer`)
  if (!fitsInt(v.trim())) throw apiError('BadQueryParameter', tooLarge(key, MAX_DB_INT))
  return Number(v)
}

export function v2Paging(raw: RawQuery, orderable: readonly string[]): V2Paging {
  const page = positiveInt(raw, 'page') ?? 1
  const perPage = positiveInt(raw, 'results-per-page') ?? DEFAULT_RESULTS_PER_PAGE
  if (perPage > MAX_RESULTS_PER_PAGE) throw apiError('BadQueryParameter', `results_per_page must be <= ${MAX_RESULTS_PER_PAGE}`)
  const depth = last(raw['inline-relations-depth'])
  if (depth !== undefined) {
    if (!/^\s*\d+\s*$/.test(depth)) throw apiError('BadQueryParameter', 'inline-relations-depth must be an integer')
    if (Number(depth) > MAX_INLINE_RELATIONS_DEPTH) {
      throw apiError('BadQueryParameter', `inline_relations_depth must be <= ${MAX_INLINE_RELATIONS_DEPTH}`)
    }
  }
  const direction = last(raw['order-direction']) ?? 'asc'
  if (direction !== 'asc' && direction !== 'desc') {
    throw apiError('BadQueryParameter', `order_direction must be 'asc' or 'desc' but was '${direction}'`)
  }
  // Validated as CC does (OrderByParameterInvalid, a 500 there and a 400 here), but the events
  // controller always sorts by timestamp, then id.
  for (const by of [raw['order-by']].flat()) {
    if (by !== undefined && !orderable.includes(by)) throw apiError('OrderByParameterInvalid', by)
  }
  return { page, perPage, direction }
}

/** The `q` values as sent: one string, several, or none. */
export function qValues(raw: RawQuery): string[] {
  const q = raw.q
  return q === undefined ? [] : Array.isArray(q) ? q : [q]
}

/** `a:1;b:2` is two conditions; `;;` is a literal `;`; empty trailing segments are dropped (Ruby's split). */
export function qSegments(qs: readonly string[]): string[] {
  const marker = '\u0000'
  return qs.flatMap((q) => rubySplit(q.replaceAll(';;', marker), ';').map((s) => s.replaceAll(marker, ';')))
}

const OPERATOR = /(:|>=|<=|<|>| IN )/

/** Ruby's String#split: trailing empty fields are dropped. */
function rubySplit(s: string, sep: string): string[] {
  const out = s.split(sep)
  while (out.length && out[out.length - 1] === '') out.pop()
  return out
}

const ZONED = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?| \d{2}:?\d{2})?$/i

/**
 * Ruby's Time.parse for the forms clients send: a date, or a date and time with an optional
 * zone (`Z`, `UTC`, `±hh:mm`, `±hhmm`, `±hh`; a `+` that arrived form-decoded as a space is read
 * as `+`). Without a zone the time is UTC, the server's zone.
 */
export function parseV2Time(value: string): Date | undefined {
  const m = ZONED.exec(value.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zoneRaw] = m
  let zone = (zoneRaw ?? 'Z').toUpperCase()
  if (zone === 'UTC' || zone === 'GMT') zone = 'Z'
  if (zone.startsWith(' ')) zone = `+${zone.trim()}`
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00'
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`
  const ms = frac ? frac.slice(0, 4).padEnd(4, '0') : ''
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`
  const t = new Date(iso)
  if (Number.isNaN(t.getTime())) return undefined
  // Reject rolled-over dates such as 2020-02-31.
  const local = new Date(`${y}-${mo}-${d}T00:00:00Z`)
  if (Number.isNaN(local.getTime()) || local.getUTCDate() !== Number(d)) return undefined
  return t
}

/**
 * The `q` grammar of /v2/events: `attr<op>value` with `:` (equals), `>`, `<`, `>=`, `<=` and
 * ` IN ` (comma list), on timestamp, type, actee, space_guid and organization_guid; all
 * conditions are ANDed. Strings compare literally; timestamps are whole seconds.
 */
export function parseEventQ(raw: RawQuery): V2Filter {
  const filter: V2Filter = { conditions: [], createdAt: [], never: false }
  const columns: Record<string, EventColumn | 'timestamp'> = {
    timestamp: 'timestamp',
    type: 'type',
    actee: 'actee',
    space_guid: 'space_guid',
    organization_guid: 'organization_guid',
  }
  for (const segment of qSegments(qValues(raw))) {
    const m = OPERATOR.exec(segment)
    const key = m ? segment.slice(0, m.index) : segment
    const column = Object.hasOwn(columns, key) ? columns[key] : undefined
    if (!column || !m) throw apiError('BadQueryParameter', key)
    const op = m[1]!
    const value = segment.slice(m.index + op.length)
    const values = op === ' IN ' ? rubySplit(value, ',') : [value]
    if (column === 'timestamp') {
      const times = values.filter((v) => v !== '').map((v) => {
        const t = parseV2Time(v)
        if (!t) throw apiError('BadQueryParameter', key)
        return t
      })
      if (!times.length) {
        filter.never = true
        continue
      }
      const ops: TimestampOps =
        op === ':' || op === ' IN ' ? { eq: times } : { [({ '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const)[op as '<']]: times }
      filter.createdAt.push(ops)
      continue
    }
    if (op === ' IN ') {
      if (!values.length) filter.never = true
      else filter.conditions.push({ column, op: 'in', values })
      continue
    }
    filter.conditions.push({ column, op: (op === ':' ? '=' : op) as StringOp, values: [value] })
  }
  return filter
}

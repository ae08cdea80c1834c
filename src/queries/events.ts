import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { EventScope } from '../authz/permissions.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { EventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { timestampConditions, type Page } from './list.ts'

/** Columns the audit-event filters compare as strings. */
export type EventColumn = 'type' | 'space_guid' | 'organization_guid' | 'actee' | 'guid' | 'actor' | 'actor_username'
export type StringOp = '=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in'

/** One string comparison: `type in (…)`, `actee not in (…)`, v2's `type > 'x'`, … */
export interface StringCondition {
  readonly column: EventColumn
  readonly op: StringOp
  readonly values: readonly string[]
}

/**
 * A filtered view of the events table, as both APIs need it: who may see what (scope), string
 * comparisons, and created_at conditions (each TimestampOps is one filter; all are ANDed).
 */
export interface EventFilter {
  readonly scope: EventScope
  readonly conditions: readonly StringCondition[]
  readonly createdAt: readonly TimestampOps[]
  /** A condition that can never hold (v2 `q=timestamp:` compares with NULL). */
  readonly never?: boolean
}

/** v3 orders by seq (CC's id) unless asked; v2 always by timestamp then id. */
export type EventOrder =
  | { readonly kind: 'seq'; readonly direction: 'asc' | 'desc' }
  | { readonly kind: 'created_at'; readonly direction: 'asc' | 'desc'; readonly tiebreak: 'guid' | 'seq' }

/** Columns the counter table (`event_counts`) has, so conditions on them can be counted there. */
const COUNTED: ReadonlySet<EventColumn> = new Set(['type', 'space_guid', 'organization_guid'])

/** Above this many rows a count switches from counting matches to counting the complement. */
export const COUNT_CAP = 10_000

const FALSE = sql<SqlBool>`false`
const TRUE = sql<SqlBool>`true`

function conditionSql(c: StringCondition): RawBuilder<SqlBool> {
  const ref = sql.ref(c.column)
  switch (c.op) {
    case 'in':
      return c.values.length ? sql<SqlBool>`${ref} in (${sql.join(c.values)})` : FALSE
    case 'not in':
      return c.values.length ? sql<SqlBool>`${ref} not in (${sql.join(c.values)})` : TRUE
    default:
      return sql<SqlBool>`${ref} ${sql.raw(c.op)} ${c.values[0] ?? ''}`
  }
}

function scopeSql(scope: EventScope): RawBuilder<SqlBool> | undefined {
  if (scope.all) return undefined
  const parts: RawBuilder<SqlBool>[] = []
  if (scope.spaces.length) parts.push(sql<SqlBool>`space_guid in (${sql.join(scope.spaces)})`)
  if (scope.orgs.length) parts.push(sql<SqlBool>`organization_guid in (${sql.join(scope.orgs)})`)
  if (!parts.length) return FALSE
  return parts.length === 1 ? parts[0] : sql<SqlBool>`(${sql.join(parts, sql` or `)})`
}

function and(parts: readonly RawBuilder<SqlBool>[]): RawBuilder<SqlBool> {
  if (!parts.length) return TRUE
  return parts.length === 1 ? parts[0]! : sql<SqlBool>`(${sql.join(parts, sql` and `)})`
}

function timeSql(f: EventFilter): RawBuilder<SqlBool>[] {
  return f.createdAt.flatMap((ops) => timestampConditions('created_at', ops)) as RawBuilder<SqlBool>[]
}

/** The parts of a filter the counter table can answer: scope and type/space/org conditions. */
function countedParts(f: EventFilter): RawBuilder<SqlBool>[] {
  const scope = scopeSql(f.scope)
  return [...(f.never ? [FALSE] : []), ...(scope ? [scope] : []), ...f.conditions.filter((c) => COUNTED.has(c.column)).map(conditionSql)]
}

/** Everything else: actee, actor and guid conditions and the time window. */
function residualParts(f: EventFilter): RawBuilder<SqlBool>[] {
  return [...f.conditions.filter((c) => !COUNTED.has(c.column)).map(conditionSql), ...timeSql(f)]
}

export function whereSql(f: EventFilter): RawBuilder<SqlBool> {
  return and([...countedParts(f), ...residualParts(f)])
}

/**
 * recordEvent keeps created_at non-decreasing along seq, so seq order is (created_at, seq) order;
 * written that way it is the order of every (column, created_at, seq) index, and a filtered list
 * in CC's default order reads its first page straight off the filter's index.
 */
function orderSql(order: EventOrder): RawBuilder<unknown> {
  const dir = sql.raw(order.direction)
  if (order.kind === 'seq') return sql`created_at ${dir}, seq ${dir}`
  return sql`created_at ${dir}, ${sql.ref(order.tiebreak)} ${dir}`
}

const COLUMNS = sql.raw(
  'seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid, prev_hash, hash',
)

/** The page query: the filter, the order, then LIMIT/OFFSET as CC pages. */
export function pageQuery(f: EventFilter, paging: Paging, order: EventOrder): RawBuilder<EventRow> {
  return sql<EventRow>`select ${COLUMNS} from events where ${whereSql(f)}
    order by ${orderSql(order)} limit ${paging.perPage} offset ${(paging.page - 1) * paging.perPage}`
}

/**
 * How `total_results` is counted (docs/audit-events.md, "Counting"). Exact in every case, and
 * without scanning the table for the common filters:
 *
 * - no actee/guid/time condition: a sum over the counters (`event_counts`, or the one-row
 *   `event_totals`) and the deltas not yet folded into them (src/audit/event-counts.ts);
 * - a positive actee or guid condition: count(*) through that index (selective by nature);
 * - a time window and nothing else, for a global reader: the whole minutes inside it from
 *   `event_minutes` (and its deltas), the partial minutes at its ends by index (minutesPlan);
 * - otherwise (time windows, `target_guids[not]`, v2 actee comparisons): count the matches with
 *   a cap; past the cap count the complement with a cap and subtract it from the counters; only
 *   when both sides are large does it count the matches in full.
 */
export type CountPlan =
  | { readonly kind: 'counters' | 'minutes' | 'selective'; readonly query: RawBuilder<{ n: number | string }> }
  | {
      readonly kind: 'window'
      readonly inside: RawBuilder<{ n: number | string }>
      readonly complement: RawBuilder<{ n: number | string }>
      readonly full: RawBuilder<{ n: number | string }>
    }

function countersQuery(f: EventFilter): RawBuilder<{ n: number | string }> {
  const counted = countedParts(f)
  if (!counted.length) {
    return sql<{ n: number }>`select coalesce((select n from event_totals where id = 1), 0) + (select coalesce(sum(n), 0) from event_count_deltas) as n`
  }
  const where = and(counted)
  return sql<{ n: number }>`select (select coalesce(sum(n), 0) from event_counts where ${where})
    + (select coalesce(sum(n), 0) from event_count_deltas where ${where}) as n`
}

/** A half-open time interval [from, to) in epoch milliseconds; ±Infinity for open ends. */
export type Interval = readonly [number, number]

function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = []
  for (const [a0, a1] of a) for (const [b0, b1] of b) if (Math.max(a0, b0) < Math.min(a1, b1)) out.push([Math.max(a0, b0), Math.min(a1, b1)])
  return out.sort((x, y) => x[0] - y[0])
}

/** Merges overlapping or touching intervals. */
function union(xs: readonly Interval[]): Interval[] {
  const out: [number, number][] = []
  for (const [x0, x1] of [...xs].sort((p, q) => p[0] - q[0])) {
    const last = out.at(-1)
    if (last && x0 <= last[1]) last[1] = Math.max(last[1], x1)
    else out.push([x0, x1])
  }
  return out
}

/** The created_at conditions as disjoint intervals, with the semantics of timestampConditions. */
export function timeIntervals(list: readonly TimestampOps[]): Interval[] {
  let acc: Interval[] = [[-Infinity, Infinity]]
  for (const ops of list) {
    if (ops.eq) acc = intersect(acc, union(ops.eq.map((t) => [t.getTime(), t.getTime() + 1000] as const)))
    for (const t of ops.lt ?? []) acc = intersect(acc, [[-Infinity, t.getTime()]])
    for (const t of ops.lte ?? []) acc = intersect(acc, [[-Infinity, t.getTime() + 1000]])
    for (const t of ops.gt ?? []) acc = intersect(acc, [[t.getTime() + 1000, Infinity]])
    for (const t of ops.gte ?? []) acc = intersect(acc, [[t.getTime(), Infinity]])
  }
  return union(acc)
}

const MINUTE_MS = 60_000

/** Events with from <= created_at < to, by the created_at index (a part of one minute at most). */
function rowsBetween(from: number, to: number): RawBuilder<number> {
  return sql<number>`(select count(*) from events where created_at >= ${new Date(from)} and created_at < ${new Date(to)})`
}

/** Events in the whole minutes [from, to) (epoch minutes; null for an open end): folded and pending. */
function wholeMinutes(from: number | null, to: number | null): RawBuilder<number> {
  const where = and([...(from === null ? [] : [sql<SqlBool>`minute >= ${from}`]), ...(to === null ? [] : [sql<SqlBool>`minute < ${to}`])])
  return sql<number>`(select coalesce(sum(n), 0) from event_minutes where ${where}) + (select coalesce(sum(n), 0) from event_count_deltas where ${where})`
}

/** One interval's count: whole minutes from the counters, the partial minutes at its ends by index. */
function intervalCount([a, b]: Interval): RawBuilder<number>[] {
  const first = Number.isFinite(a) ? Math.ceil(a / MINUTE_MS) : null
  const last = Number.isFinite(b) ? Math.floor(b / MINUTE_MS) : null
  if (first !== null && last !== null && first >= last) return [rowsBetween(a, b)]
  return [
    wholeMinutes(first, last),
    ...(first !== null && first * MINUTE_MS > a ? [rowsBetween(a, first * MINUTE_MS)] : []),
    ...(last !== null && last * MINUTE_MS < b ? [rowsBetween(last * MINUTE_MS, b)] : []),
  ]
}

/** A time window over all events (a global reader, no other filter), counted per minute. */
function minutesPlan(f: EventFilter): CountPlan | undefined {
  if (!f.scope.all || f.never || f.conditions.length || !f.createdAt.some((o) => Object.keys(o).length)) return undefined
  const parts = timeIntervals(f.createdAt).flatMap(intervalCount)
  const query = parts.length ? sql<{ n: number }>`select ${sql.join(parts, sql` + `)} as n` : sql<{ n: number }>`select 0 as n`
  return { kind: 'minutes', query }
}

export function countPlan(f: EventFilter, cap = COUNT_CAP): CountPlan {
  return minutesPlan(f) ?? windowPlan(f, cap)
}

function windowPlan(f: EventFilter, cap: number): CountPlan {
  const residual = residualParts(f)
  if (!residual.length) return { kind: 'counters', query: countersQuery(f) }
  const where = whereSql(f)
  const full = sql<{ n: number }>`select count(*) as n from events where ${where}`
  const selective = f.conditions.some((c) => (c.column === 'actee' || c.column === 'guid') && (c.op === 'in' || c.op === '='))
  if (selective) return { kind: 'selective', query: full }
  const counted = countedParts(f)
  const inside = sql<{ n: number }>`select count(*) as n from (select 1 from events where ${where} limit ${cap + 1}) m`
  // Rows the counters include but the residual conditions exclude (a NULL actor_username is excluded).
  const outside = and([...counted, sql<SqlBool>`not coalesce(${and(residual)}, false)`])
  const complement = sql<{ n: number }>`select (${countersQuery(f)}) as total,
    (select count(*) from (select 1 from events where ${outside} limit ${cap + 1}) c) as n`
  return { kind: 'window', inside, complement, full }
}

async function one(db: Db, q: RawBuilder<{ n: number | string }>): Promise<number> {
  const r = await q.execute(db)
  return Number(r.rows[0]?.n ?? 0)
}

/** The exact number of events the filter matches, and which way it was counted. */
export async function countEventsHow(db: Db, f: EventFilter, cap = COUNT_CAP): Promise<{ n: number; how: string }> {
  const plan = countPlan(f, cap)
  if (plan.kind !== 'window') return { n: await one(db, plan.query), how: plan.kind }
  const inside = await one(db, plan.inside)
  if (inside <= cap) return { n: inside, how: 'window-inside' }
  const c = (await plan.complement.execute(db)).rows[0] as unknown as { total: number | string; n: number | string }
  if (Number(c.n) <= cap) return { n: Number(c.total) - Number(c.n), how: 'window-complement' }
  return { n: await one(db, plan.full), how: 'window-full' }
}

export async function countEvents(db: Db, f: EventFilter): Promise<number> {
  return (await countEventsHow(db, f)).n
}

/**
 * The SQL of a list request, as the endpoints run it (and the benchmark's raw-SQL baseline): the
 * first page's query runs alongside the count (two pool connections on PostgreSQL); a later page
 * waits for the count, so a page past the end costs no OFFSET scan (its resources are empty; CC
 * returns the real totals either way).
 */
export async function runListQueries(db: Db, f: EventFilter, paging: Paging, order: EventOrder): Promise<{ total: number; rows: EventRow[] }> {
  if (paging.page === 1) {
    const [total, page] = await Promise.all([countEvents(db, f), pageQuery(f, paging, order).execute(db)])
    return { total, rows: page.rows }
  }
  const total = await countEvents(db, f)
  const rows = (paging.page - 1) * paging.perPage >= total ? [] : (await pageQuery(f, paging, order).execute(db)).rows
  return { total, rows }
}

export async function listEvents(db: Db, f: EventFilter, paging: Paging, order: EventOrder): Promise<Page<EventRow>> {
  const { total, rows } = await runListQueries(db, f, paging, order)
  return { rows: rows.map(normalizeRow), total }
}

export async function findEvent(db: Db, guid: string): Promise<EventRow | undefined> {
  const r = await sql<EventRow>`select ${COLUMNS} from events where guid = ${guid}`.execute(db)
  return r.rows[0] ? normalizeRow(r.rows[0]) : undefined
}

/** True when the caller's scope covers the event. */
export function inEventScope(scope: EventScope, e: Pick<EventRow, 'space_guid' | 'organization_guid'>): boolean {
  if (scope.all) return true
  return (e.space_guid !== '' && scope.spaces.includes(e.space_guid)) || (e.organization_guid !== '' && scope.orgs.includes(e.organization_guid))
}

/** Both drivers return bigint seq as a number, timestamps as Date, jsonb parsed; keep it so. */
function normalizeRow(r: EventRow): EventRow {
  return { ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }
}

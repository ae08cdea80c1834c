import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely'
import type { Permissions } from '../authz/permissions.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Requirement } from '../messages/label-selector.ts'

export interface Page<T> {
  readonly rows: readonly T[]
  readonly total: number
}

export interface Order {
  readonly column: string
  readonly direction: 'asc' | 'desc'
}

/** Runs a filtered query as one page plus its total count. `tiebreak` keeps paging stable. */
export async function paginate<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  paging: Paging,
  order: Order,
  tiebreak: string,
): Promise<Page<O>> {
  const countRow = await qb
    .clearSelect()
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirst()
  const total = Number((countRow as { n?: number } | undefined)?.n ?? 0)
  const rows = await qb
    .orderBy(sql.ref(order.column), order.direction)
    .orderBy(sql.ref(tiebreak), order.direction)
    .limit(paging.perPage)
    .offset((paging.page - 1) * paging.perPage)
    .execute()
  return { rows, total }
}

const OPS = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const

/** SQL conditions for `created_ats` / `updated_ats` filters on `column`. */
export function timestampConditions(column: string, ops: TimestampOps): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = []
  const ref = sql.ref(column)
  if (ops.eq) {
    // CC matches a whole second for equality, since timestamps are shown to the second.
    const ors = ops.eq.map((t) => sql<SqlBool>`(${ref} >= ${t} and ${ref} < ${new Date(t.getTime() + 1000)})`)
    out.push(sql<SqlBool>`(${sql.join(ors, sql` or `)})`)
  }
  for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
    const t = ops[op]?.[0]
    if (!t) continue
    // Timestamps are shown to the second, so `gt`/`lte` compare against the end of that second.
    const bound = op === 'gt' || op === 'lte' ? new Date(t.getTime() + 1000) : t
    const cmp = op === 'gt' ? '>=' : op === 'lte' ? '<' : OPS[op]
    out.push(sql<SqlBool>`${ref} ${sql.raw(cmp)} ${bound}`)
  }
  return out
}

/** SQL conditions for a parsed label selector against a jsonb `labels` column. */
export function labelConditions(column: string, reqs: readonly Requirement[]): Expression<SqlBool>[] {
  const ref = sql.ref(column)
  return reqs.map((r) => {
    switch (r.op) {
      case 'exists':
        return sql<SqlBool>`jsonb_exists(${ref}, ${r.key})`
      case 'not_exists':
        return sql<SqlBool>`not jsonb_exists(${ref}, ${r.key})`
      case 'in':
        return sql<SqlBool>`(${ref} ->> ${r.key}) in (${sql.join(r.values)})`
      case 'notin':
        return sql<SqlBool>`coalesce((${ref} ->> ${r.key}) not in (${sql.join(r.values)}), true)`
    }
  })
}

/**
 * CC's readable-space scope as one SQL condition: a space role in the row's space, or org manager
 * of its org. Undefined for callers who read everything.
 */
export function readableSpaceCondition(perms: Permissions, spaceColumn: string, orgColumn: string): Expression<SqlBool> | undefined {
  const r = perms.readableSpaces()
  if (r.all) return undefined
  const parts: Expression<SqlBool>[] = []
  if (r.spaces.length) parts.push(sql<SqlBool>`${sql.ref(spaceColumn)} in (${sql.join(r.spaces)})`)
  if (r.orgs.length) parts.push(sql<SqlBool>`${sql.ref(orgColumn)} in (${sql.join(r.orgs)})`)
  return parts.length ? sql<SqlBool>`(${sql.join(parts, sql` or `)})` : sql<SqlBool>`false`
}

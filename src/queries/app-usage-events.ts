// App usage events (CC's /v3/app_usage_events): global readers only, so no scope here.
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { AppUsageEventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { paginate, timestampConditions, type Order } from './list.ts'

export interface AppUsageEventFilters {
  readonly guids?: readonly string[]
  /** Only events after this one (CC's after_guid); undefined result when it does not exist. */
  readonly afterGuid?: string
  readonly createdAts?: TimestampOps
}

export function findAppUsageEvent(db: Db, guid: string): Promise<AppUsageEventRow | undefined> {
  return db.selectFrom('app_usage_events').selectAll().where('guid', '=', guid).executeTakeFirst()
}

/** The page, or `undefined` when `afterGuid` names no event (CC: 404 After guid filter). */
export async function listAppUsageEvents(db: Db, f: AppUsageEventFilters, paging: Paging, order: Order) {
  let qb = db.selectFrom('app_usage_events').selectAll()
  if (f.guids) qb = qb.where('guid', 'in', [...f.guids])
  if (f.afterGuid !== undefined) {
    const after = await db.selectFrom('app_usage_events').select('seq').where('guid', '=', f.afterGuid).executeTakeFirst()
    if (!after) return undefined
    qb = qb.where('seq', '>', after.seq)
  }
  for (const cond of timestampConditions('created_at', f.createdAts ?? {})) qb = qb.where(cond)
  return paginate(qb, paging, order, 'seq')
}

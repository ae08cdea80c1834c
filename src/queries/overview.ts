import { sql } from 'kysely'
import type { Permissions } from '../authz/permissions.ts'
import type { Db } from '../store/store.ts'
import { readableSpaceCondition } from './list.ts'

export interface Overview {
  readonly days: { date: string; state: string; count: number }[]
  readonly failuresByApp: { app_guid: string; app_name: string; failed: number }[]
  readonly busiestActors: { guid: string; name: string; tasks: number }[]
}

/** Task runs per day and state, failures by app and the busiest actors, over readable spaces. */
export async function taskOverview(
  db: Db,
  perms: Permissions,
  since: Date,
  top: number,
): Promise<Overview> {
  const scope =
    readableSpaceCondition(perms, 'space_guid', 'organization_guid') ?? sql<boolean>`true`
  const base = sql`from tasks where ${scope} and created_at >= ${since.toISOString()}`
  const [days, failures, actors] = await Promise.all([
    sql<{ date: string; state: string; count: number }>`
      select to_char(date_trunc('day', created_at at time zone 'UTC'), 'YYYY-MM-DD') as date, state, count(*)::int as count
      ${base} group by 1, 2 order by 1, 2`.execute(db),
    sql<{ app_guid: string; app_name: string; failed: number }>`
      select app_guid, max(target_names ->> 'app') as app_name, count(*)::int as failed
      ${base} and state = 'FAILED' group by app_guid order by 3 desc, 1 limit ${top}`.execute(db),
    sql<{ guid: string; name: string; tasks: number }>`
      select created_by ->> 'guid' as guid, max(coalesce(created_by ->> 'username', created_by ->> 'name', created_by ->> 'guid')) as name,
        count(*)::int as tasks
      ${base} group by 1 order by 3 desc, 1 limit ${top}`.execute(db),
  ])
  return { days: days.rows, failuresByApp: failures.rows, busiestActors: actors.rows }
}

import { sql } from 'kysely'
import type { Permissions } from '../authz/permissions.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface TrailFilters {
  readonly actorGuids?: readonly string[]
  readonly actorUsernames?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly appNames?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly states?: readonly string[]
  readonly sequenceIds?: readonly number[]
  readonly fingerprints?: readonly string[]
  readonly createdAts?: TimestampOps
  /** Collected runs of these foundations; `local` names this server's own tasks. */
  readonly foundations?: readonly string[]
}

/** Any task the caller may read, including tasks of deleted apps (the trail outlives the app). */
export function findTaskForTrail(db: Db, guid: string) {
  return db.selectFrom('tasks').selectAll().where('guid', '=', guid).executeTakeFirst()
}

export function searchTrails(db: Db, perms: Permissions, f: TrailFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('tasks')
    .selectAll()
    // The output's line counts for the console's list (null until the task printed anything).
    .select(sql<{ out_lines: number; err_lines: number } | null>`(select json_build_object('out_lines', o.out_lines, 'err_lines', o.err_lines)
      from task_outputs o where o.task_guid = tasks.guid)`.as('output_lines'))
  const scope = readableSpaceCondition(perms, 'space_guid', 'organization_guid')
  if (scope) q = q.where(scope)
  if (f.actorGuids) q = q.where(sql<string>`created_by ->> 'guid'`, 'in', [...f.actorGuids])
  if (f.actorUsernames) q = q.where(sql<string>`created_by ->> 'username'`, 'in', [...f.actorUsernames])
  if (f.appGuids) q = q.where('app_guid', 'in', [...f.appGuids])
  if (f.appNames) q = q.where(sql<string>`target_names ->> 'app'`, 'in', [...f.appNames])
  if (f.spaceGuids) q = q.where('space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('organization_guid', 'in', [...f.organizationGuids])
  if (f.states) q = q.where('state', 'in', [...f.states])
  if (f.sequenceIds) q = q.where('sequence_id', 'in', [...f.sequenceIds])
  if (f.fingerprints) q = q.where('command_fingerprint', 'in', [...f.fingerprints])
  if (f.foundations) {
    const names = f.foundations.filter((n) => n !== 'local')
    const local = names.length !== f.foundations.length
    q = q.where((eb) => eb.or([...(names.length ? [eb('foundation', 'in', names)] : []), ...(local ? [eb('foundation', 'is', null)] : [])]))
  }
  for (const c of timestampConditions('created_at', f.createdAts ?? {})) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

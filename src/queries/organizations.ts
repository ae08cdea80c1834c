import type { Scope } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order } from './list.ts'

export interface OrgFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export function findOrganization(db: Db, guid: string) {
  return db.selectFrom('organizations').selectAll().where('guid', '=', guid).executeTakeFirst()
}

/** Organizations by guid, for a list's `include` (the caller already may read the listed resources). */
export function organizationsByGuids(db: Db, guids: readonly string[]) {
  const unique = [...new Set(guids)]
  return unique.length ? db.selectFrom('organizations').selectAll().where('guid', 'in', unique).execute() : Promise.resolve([])
}

export function listOrganizations(db: Db, scope: Scope, f: OrgFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('organizations').selectAll()
  if (scope !== 'all') q = scope.length ? q.where('guid', 'in', [...scope]) : q.where((eb) => eb.val(false))
  if (f.names) q = q.where('name', 'in', [...f.names])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  const conds = [
    ...labelConditions('labels', f.labels ?? []),
    ...timestampConditions('created_at', f.createdAts ?? {}),
    ...timestampConditions('updated_at', f.updatedAts ?? {}),
  ]
  for (const c of conds) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

/** What an org uses now: RUNNING tasks (count, memory) and its service instances. */
export async function organizationUsage(db: Db, orgGuid: string) {
  const tasks = await db
    .selectFrom('tasks')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.coalesce(eb.fn.sum<string>('memory_in_mb'), eb.lit(0)).as('mb')])
    .where('organization_guid', '=', orgGuid)
    .where('state', '=', 'RUNNING')
    .executeTakeFirstOrThrow()
  const instances = await db
    .selectFrom('service_instances')
    .innerJoin('spaces', 'spaces.guid', 'service_instances.space_guid')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('spaces.organization_guid', '=', orgGuid)
    .executeTakeFirstOrThrow()
  return { runningTasks: Number(tasks.n), runningTaskMemoryInMb: Number(tasks.mb), serviceInstances: Number(instances.n) }
}

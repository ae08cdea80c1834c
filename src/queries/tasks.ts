import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface TaskFilters {
  readonly guids?: readonly string[]
  readonly names?: readonly string[]
  readonly states?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly sequenceIds?: readonly number[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

/** Tasks of live apps (CF deletes an app's tasks with it; cf-ledger keeps them for the trail). */
function tasksOfLiveApps(db: Db) {
  return db.selectFrom('tasks').innerJoin('apps', 'apps.guid', 'tasks.app_guid').selectAll('tasks')
}

export function findTask(db: Db, guid: string) {
  return tasksOfLiveApps(db).where('tasks.guid', '=', guid).executeTakeFirst()
}

export function listTasks(db: Db, perms: Permissions, f: TaskFilters, paging: Paging, order: Order) {
  let q = tasksOfLiveApps(db)
  const scope = readableSpaceCondition(perms, 'tasks.space_guid', 'tasks.organization_guid')
  if (scope) q = q.where(scope)
  if (f.guids) q = q.where('tasks.guid', 'in', [...f.guids])
  if (f.names) q = q.where('tasks.name', 'in', [...f.names])
  if (f.states) q = q.where('tasks.state', 'in', [...f.states])
  if (f.appGuids) q = q.where('tasks.app_guid', 'in', [...f.appGuids])
  if (f.spaceGuids) q = q.where('tasks.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('tasks.organization_guid', 'in', [...f.organizationGuids])
  if (f.sequenceIds) q = q.where('tasks.sequence_id', 'in', [...f.sequenceIds])
  for (const c of [
    ...labelConditions('tasks.labels', f.labels ?? []),
    ...timestampConditions('tasks.created_at', f.createdAts ?? {}),
    ...timestampConditions('tasks.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `tasks.${order.column}`, direction: order.direction }, 'tasks.guid')
}

/** A task's state alone (a follower polls it to learn the task ended elsewhere). */
export async function taskState(db: Db, guid: string): Promise<string | undefined> {
  return (await db.selectFrom('tasks').select('state').where('guid', '=', guid).executeTakeFirst())?.state
}

// Processes (CC's ProcessModel): one by guid or by its app and type, an app's list, and the list
// over the spaces the caller can read.
import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { ProcessRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, readableSpaceCondition, timestampConditions, type Order } from './list.ts'

export interface ProcessFilters {
  readonly guids?: readonly string[]
  readonly types?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export function findProcess(db: Db, guid: string): Promise<ProcessRow | undefined> {
  return db.selectFrom('processes').selectAll().where('guid', '=', guid).executeTakeFirst()
}

export function findProcessOfApp(db: Db, appGuid: string, type: string): Promise<ProcessRow | undefined> {
  return db.selectFrom('processes').selectAll().where('app_guid', '=', appGuid).where('type', '=', type).executeTakeFirst()
}

/** `/v3/apps/:guid/processes`: the app is readable (the route checked). */
export function listAppProcesses(db: Db, appGuid: string, f: ProcessFilters, paging: Paging, order: Order) {
  let qb = db.selectFrom('processes').selectAll().where('app_guid', '=', appGuid)
  if (f.guids) qb = qb.where('guid', 'in', [...f.guids])
  if (f.types) qb = qb.where('type', 'in', [...f.types])
  for (const cond of [...labelConditions('labels', f.labels ?? []), ...timestampConditions('created_at', f.createdAts ?? {}), ...timestampConditions('updated_at', f.updatedAts ?? {})]) qb = qb.where(cond)
  return paginate(qb, paging, order, 'guid')
}

/** `/v3/processes`: processes of apps in spaces the caller can read, with each one's space. */
export function listProcesses(db: Db, perms: Permissions, f: ProcessFilters, paging: Paging, order: Order) {
  let qb = db.selectFrom('processes').innerJoin('apps', 'apps.guid', 'processes.app_guid').innerJoin('spaces', 'spaces.guid', 'apps.space_guid').selectAll('processes').select('apps.space_guid as space_guid')
  const scope = readableSpaceCondition(perms, 'apps.space_guid', 'spaces.organization_guid')
  if (scope) qb = qb.where(scope)
  if (f.guids) qb = qb.where('processes.guid', 'in', [...f.guids])
  if (f.types) qb = qb.where('processes.type', 'in', [...f.types])
  if (f.appGuids) qb = qb.where('processes.app_guid', 'in', [...f.appGuids])
  if (f.spaceGuids) qb = qb.where('apps.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) qb = qb.where('spaces.organization_guid', 'in', [...f.organizationGuids])
  for (const cond of [...labelConditions('processes.labels', f.labels ?? []), ...timestampConditions('processes.created_at', f.createdAts ?? {}), ...timestampConditions('processes.updated_at', f.updatedAts ?? {})]) qb = qb.where(cond)
  return paginate(qb, paging, { column: `processes.${order.column}`, direction: order.direction }, 'processes.guid')
}

/** The web processes of these apps (v2 shows an app as its web process). */
export function webProcessesOf(db: Db, appGuids: readonly string[]): Promise<ProcessRow[]> {
  return appGuids.length ? db.selectFrom('processes').selectAll().where('app_guid', 'in', [...appGuids]).where('type', '=', 'web').execute() : Promise.resolve([])
}

import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order } from './list.ts'

export interface ServiceInstanceFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly type?: string
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export async function findServiceInstance(db: Db, guid: string) {
  return db
    .selectFrom('service_instances as si')
    .innerJoin('spaces as s', 's.guid', 'si.space_guid')
    .selectAll('si')
    .select('s.organization_guid')
    .where('si.guid', '=', guid)
    .executeTakeFirst()
}

/** Instances in spaces the caller can read (CC's readable space scope). */
export function listServiceInstances(db: Db, perms: Permissions, f: ServiceInstanceFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('service_instances as si').innerJoin('spaces as s', 's.guid', 'si.space_guid').selectAll('si')
  const readable = perms.readableSpaces()
  if (!readable.all) {
    q = q.where((eb) =>
      eb.or([
        readable.spaces.length ? eb('si.space_guid', 'in', readable.spaces) : eb.val(false),
        readable.orgs.length ? eb('s.organization_guid', 'in', readable.orgs) : eb.val(false),
      ]),
    )
  }
  if (f.names) q = q.where('si.name', 'in', [...f.names])
  if (f.guids) q = q.where('si.guid', 'in', [...f.guids])
  if (f.spaceGuids) q = q.where('si.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('s.organization_guid', 'in', [...f.organizationGuids])
  if (f.type) q = q.where('si.type', '=', f.type)
  for (const c of [
    ...labelConditions('si.labels', f.labels ?? []),
    ...timestampConditions('si.created_at', f.createdAts ?? {}),
    ...timestampConditions('si.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `si.${order.column}`, direction: order.direction }, 'si.guid')
}

export interface BindingFilters {
  readonly guids?: readonly string[]
  readonly names?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly appNames?: readonly string[]
  readonly serviceInstanceGuids?: readonly string[]
  readonly serviceInstanceNames?: readonly string[]
  readonly type?: string
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export async function findBinding(db: Db, guid: string) {
  return db
    .selectFrom('service_bindings as b')
    .innerJoin('apps as a', 'a.guid', 'b.app_guid')
    .innerJoin('spaces as s', 's.guid', 'a.space_guid')
    .selectAll('b')
    .select(['a.space_guid', 's.organization_guid'])
    .where('b.guid', '=', guid)
    .executeTakeFirst()
}

/** Bindings of apps in spaces the caller can read. */
export function listBindings(db: Db, perms: Permissions, f: BindingFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('service_bindings as b')
    .innerJoin('apps as a', 'a.guid', 'b.app_guid')
    .innerJoin('spaces as s', 's.guid', 'a.space_guid')
    .innerJoin('service_instances as si', 'si.guid', 'b.service_instance_guid')
    .selectAll('b')
  const readable = perms.readableSpaces()
  if (!readable.all) {
    q = q.where((eb) =>
      eb.or([
        readable.spaces.length ? eb('a.space_guid', 'in', readable.spaces) : eb.val(false),
        readable.orgs.length ? eb('s.organization_guid', 'in', readable.orgs) : eb.val(false),
      ]),
    )
  }
  if (f.guids) q = q.where('b.guid', 'in', [...f.guids])
  if (f.names) q = q.where('b.name', 'in', [...f.names])
  if (f.appGuids) q = q.where('b.app_guid', 'in', [...f.appGuids])
  if (f.appNames) q = q.where('a.name', 'in', [...f.appNames])
  if (f.serviceInstanceGuids) q = q.where('b.service_instance_guid', 'in', [...f.serviceInstanceGuids])
  if (f.serviceInstanceNames) q = q.where('si.name', 'in', [...f.serviceInstanceNames])
  if (f.type) q = q.where('b.type', '=', f.type)
  for (const c of [
    ...labelConditions('b.labels', f.labels ?? []),
    ...timestampConditions('b.created_at', f.createdAts ?? {}),
    ...timestampConditions('b.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `b.${order.column}`, direction: order.direction }, 'b.guid')
}

/** An app's bindings with their instances, oldest first (the order CC lists them in VCAP_SERVICES). */
export function appBindingsWithInstances(db: Db, appGuid: string) {
  return db
    .selectFrom('service_bindings')
    .innerJoin('service_instances', 'service_instances.guid', 'service_bindings.service_instance_guid')
    .select([
      'service_bindings.guid as binding_guid',
      'service_bindings.name as binding_name',
      'service_instances.guid as instance_guid',
      'service_instances.name as instance_name',
      'service_instances.credentials',
      'service_instances.syslog_drain_url',
      'service_instances.tags',
    ])
    .where('service_bindings.app_guid', '=', appGuid)
    .where('service_bindings.type', '=', 'app')
    .orderBy('service_bindings.created_at')
    .orderBy('service_bindings.guid')
    .execute()
}

/** Service instances by guid, for a list's `include=service_instance`. */
export function serviceInstancesByGuids(db: Db, guids: readonly string[]) {
  const unique = [...new Set(guids)]
  return unique.length ? db.selectFrom('service_instances').selectAll().where('guid', 'in', unique).execute() : Promise.resolve([])
}

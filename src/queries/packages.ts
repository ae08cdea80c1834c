import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { PackageRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { findApp, type AppWithSpace } from './apps.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface PackageFilters {
  readonly guids?: readonly string[]
  readonly states?: readonly string[]
  readonly types?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export interface PackageInApp extends AppWithSpace {
  readonly pkg: PackageRow
}

export async function findPackage(db: Db, guid: string): Promise<PackageInApp | undefined> {
  const pkg = await db.selectFrom('packages').selectAll().where('guid', '=', guid).executeTakeFirst()
  if (!pkg) return undefined
  const owner = await findApp(db, pkg.app_guid)
  return owner && { pkg, ...owner }
}

/** Packages of apps in spaces the caller can read, filtered as CC's PackageListFetcher does. */
export function listPackages(db: Db, perms: Permissions, f: PackageFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('packages')
    .innerJoin('apps', 'apps.guid', 'packages.app_guid')
    .innerJoin('spaces', 'spaces.guid', 'apps.space_guid')
    .selectAll('packages')
  const scope = readableSpaceCondition(perms, 'apps.space_guid', 'spaces.organization_guid')
  if (scope) q = q.where(scope)
  if (f.guids) q = q.where('packages.guid', 'in', [...f.guids])
  if (f.states) q = q.where('packages.state', 'in', [...f.states])
  if (f.types) q = q.where('packages.type', 'in', [...f.types])
  if (f.appGuids) q = q.where('packages.app_guid', 'in', [...f.appGuids])
  if (f.spaceGuids) q = q.where('apps.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('spaces.organization_guid', 'in', [...f.organizationGuids])
  for (const c of [
    ...labelConditions('packages.labels', f.labels ?? []),
    ...timestampConditions('packages.created_at', f.createdAts ?? {}),
    ...timestampConditions('packages.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `packages.${order.column}`, direction: order.direction }, 'packages.guid')
}

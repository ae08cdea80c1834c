import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { BuildRow, DropletRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { findApp, type AppWithSpace } from './apps.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface DropletFilters {
  readonly guids?: readonly string[]
  readonly states?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly packageGuids?: readonly string[]
  /** Only the app's current droplet (`current=true` on /v3/apps/:guid/droplets). */
  readonly currentOfApp?: string
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export interface DropletInApp extends AppWithSpace {
  readonly droplet: DropletRow
}

export async function findDroplet(db: Db, guid: string): Promise<DropletInApp | undefined> {
  const droplet = await db.selectFrom('droplets').selectAll().where('guid', '=', guid).executeTakeFirst()
  if (!droplet) return undefined
  const owner = await findApp(db, droplet.app_guid)
  return owner && { droplet, ...owner }
}

/** The builds that produced these droplets, by droplet guid (their lifecycle is the droplet's). */
export async function buildsOfDroplets(db: Db, dropletGuids: readonly string[]): Promise<Map<string, BuildRow>> {
  if (dropletGuids.length === 0) return new Map()
  const rows = await db.selectFrom('builds').selectAll().where('droplet_guid', 'in', [...dropletGuids]).execute()
  return new Map(rows.map((b) => [b.droplet_guid!, b]))
}

export function listDroplets(db: Db, perms: Permissions, f: DropletFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('droplets')
    .innerJoin('apps', 'apps.guid', 'droplets.app_guid')
    .innerJoin('spaces', 'spaces.guid', 'apps.space_guid')
    .selectAll('droplets')
  const scope = readableSpaceCondition(perms, 'apps.space_guid', 'spaces.organization_guid')
  if (scope) q = q.where(scope)
  if (f.guids) q = q.where('droplets.guid', 'in', [...f.guids])
  if (f.states) q = q.where('droplets.state', 'in', [...f.states])
  if (f.appGuids) q = q.where('droplets.app_guid', 'in', [...f.appGuids])
  if (f.spaceGuids) q = q.where('apps.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('spaces.organization_guid', 'in', [...f.organizationGuids])
  if (f.packageGuids) q = q.where('droplets.package_guid', 'in', [...f.packageGuids])
  if (f.currentOfApp) q = q.whereRef('apps.current_droplet_guid', '=', 'droplets.guid').where('apps.guid', '=', f.currentOfApp)
  for (const c of [
    ...labelConditions('droplets.labels', f.labels ?? []),
    ...timestampConditions('droplets.created_at', f.createdAts ?? {}),
    ...timestampConditions('droplets.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `droplets.${order.column}`, direction: order.direction }, 'droplets.guid')
}

/** The droplet row alone (the app is known), for an app's current droplet. */
export function dropletRow(db: Db, guid: string): Promise<DropletRow | undefined> {
  return db.selectFrom('droplets').selectAll().where('guid', '=', guid).executeTakeFirst()
}

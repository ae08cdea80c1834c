import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { BuildRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { findApp, type AppWithSpace } from './apps.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface BuildFilters {
  readonly guids?: readonly string[]
  readonly states?: readonly string[]
  readonly appGuids?: readonly string[]
  readonly packageGuids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export interface BuildInApp extends AppWithSpace {
  readonly build: BuildRow
}

export async function findBuild(db: Db, guid: string): Promise<BuildInApp | undefined> {
  const build = await db.selectFrom('builds').selectAll().where('guid', '=', guid).executeTakeFirst()
  if (!build) return undefined
  const owner = await findApp(db, build.app_guid)
  return owner && { build, ...owner }
}

export function listBuilds(db: Db, perms: Permissions, f: BuildFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('builds')
    .innerJoin('apps', 'apps.guid', 'builds.app_guid')
    .innerJoin('spaces', 'spaces.guid', 'apps.space_guid')
    .selectAll('builds')
  const scope = readableSpaceCondition(perms, 'apps.space_guid', 'spaces.organization_guid')
  if (scope) q = q.where(scope)
  if (f.guids) q = q.where('builds.guid', 'in', [...f.guids])
  if (f.states) q = q.where('builds.state', 'in', [...f.states])
  if (f.appGuids) q = q.where('builds.app_guid', 'in', [...f.appGuids])
  if (f.packageGuids) q = q.where('builds.package_guid', 'in', [...f.packageGuids])
  for (const c of [
    ...labelConditions('builds.labels', f.labels ?? []),
    ...timestampConditions('builds.created_at', f.createdAts ?? {}),
    ...timestampConditions('builds.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `builds.${order.column}`, direction: order.direction }, 'builds.guid')
}

export interface BuildLifecycle {
  readonly type: string
  readonly data: { readonly buildpacks: readonly string[]; readonly stack: string }
}

/**
 * What a build was created with, kept in its `created_by` document next to the creator (the
 * builds table has no lifecycle or staging columns): `{guid, name, email, lifecycle, staging}`.
 */
export interface BuildDetails {
  readonly createdBy: { readonly guid: string; readonly name: string; readonly email: string }
  readonly lifecycle: BuildLifecycle
  readonly staging: { readonly memory_in_mb: number; readonly disk_in_mb: number; readonly log_rate_limit_bytes_per_second: number }
}

export const DEFAULT_STAGING = { memory_in_mb: 1024, disk_in_mb: 1024, log_rate_limit_bytes_per_second: -1 } as const

export function buildDetailsOf(b: Pick<BuildRow, 'created_by'>, fallbackLifecycle: BuildLifecycle): BuildDetails {
  const doc = (b.created_by ?? {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  return {
    createdBy: { guid: str(doc.guid), name: str(doc.name), email: str(doc.email) },
    lifecycle: (doc.lifecycle as BuildLifecycle | undefined) ?? fallbackLifecycle,
    staging: { ...DEFAULT_STAGING, ...((doc.staging as Partial<BuildDetails['staging']> | undefined) ?? {}) },
  }
}

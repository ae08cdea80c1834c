// The path's resource for a route, through its fetcher (queries/fetchers.ts): 404 when it is
// missing or the caller may not read it.
import { notFound } from '../../errors/api-error.ts'
import type { AppWithSpace } from '../../queries/apps.ts'
import { fetchApp, fetchBinding, fetchOrganization, fetchPackage, fetchRole, fetchServiceInstance, fetchSpace, fetchSpaceQuota, fetchTask, fetchTrailTask, fetchUser } from '../../queries/fetchers.ts'
import type { PackageInApp } from '../../queries/packages.ts'
import type { UserView } from '../../queries/users.ts'
import type { OrganizationRow, SpaceQuotaRow, SpaceRow, TaskRow } from '../../store/schema.ts'
import type { Db } from '../../store/store.ts'
import type { AuthedContext } from '../route.ts'

function found<T>(row: T | undefined, what: string): T {
  if (row === undefined) throw notFound(what)
  return row
}

export const visibleOrg = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<OrganizationRow> =>
  found(await fetchOrganization(db, ctx.perms, guid), 'Organization')

export const visibleSpace = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<SpaceRow> =>
  found(await fetchSpace(db, ctx.perms, guid), 'Space')

export const visibleTask = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<TaskRow> =>
  found(await fetchTask(db, ctx.perms, guid), 'Task')

/** The app with its space, as every /v3/apps/:guid route starts. */
export const visibleApp = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<AppWithSpace> =>
  found(await fetchApp(db, ctx.perms, guid), 'App')

export const visiblePackage = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<PackageInApp> =>
  found(await fetchPackage(db, ctx.perms, guid), 'Package')

export const visibleTrailTask = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!) => found(await fetchTrailTask(db, ctx.perms, guid), 'Task')

export const visibleSpaceQuota = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<SpaceQuotaRow> =>
  found(await fetchSpaceQuota(db, ctx.perms, guid), 'Space quota')

export const visibleUser = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<UserView> =>
  found(await fetchUser(db, ctx.perms, guid), 'User')

export const visibleRole = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!) => found(await fetchRole(db, ctx.perms, guid), 'Role')

/** The instance row and, apart, its space's organization. */
export async function visibleServiceInstance(db: Db, ctx: AuthedContext, guid = ctx.params.guid!) {
  const { organization_guid: orgGuid, ...si } = found(await fetchServiceInstance(db, ctx.perms, guid), 'Service instance')
  return { si, orgGuid }
}

/** The binding row and, apart, its app's space and organization. */
export async function visibleBinding(db: Db, ctx: AuthedContext, guid = ctx.params.guid!) {
  const { space_guid: spaceGuid, organization_guid: orgGuid, ...binding } = found(await fetchBinding(db, ctx.perms, guid), 'Service credential binding')
  return { binding, spaceGuid, orgGuid }
}

// The path's resource for a route, through its fetcher (queries/fetchers.ts): 404 when it is
// missing or the caller may not read it.
import { notFound } from '../../errors/api-error.ts'
import type { AppWithSpace } from '../../queries/apps.ts'
import { fetchApp, fetchOrganization, fetchSpace, fetchSpaceQuota, fetchTask } from '../../queries/fetchers.ts'
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

export const visibleSpaceQuota = async (db: Db, ctx: AuthedContext, guid = ctx.params.guid!): Promise<SpaceQuotaRow> =>
  found(await fetchSpaceQuota(db, ctx.perms, guid), 'Space quota')

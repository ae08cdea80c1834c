import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { Permissions, Scope } from '../authz/permissions.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Database } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { paginate, timestampConditions, type Order } from './list.ts'

export interface QuotaFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export function findOrganizationQuota(db: Db, guid: string) {
  return db.selectFrom('organization_quotas').selectAll().where('guid', '=', guid).executeTakeFirst()
}

export function findSpaceQuota(db: Db, guid: string) {
  return db.selectFrom('space_quotas').selectAll().where('guid', '=', guid).executeTakeFirst()
}

/**
 * CC's OrganizationQuotaListFetcher: every quota is listed to every reader (quotas are not
 * secret); only `organization_guids` is narrowed to the orgs the caller can read.
 */
export function listOrganizationQuotas(db: Db, readableOrgs: Scope, f: QuotaFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('organization_quotas').selectAll('organization_quotas')
  if (f.names) q = q.where('name', 'in', [...f.names])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  if (f.organizationGuids) {
    const orgs = readableOrgs === 'all' ? [...f.organizationGuids] : f.organizationGuids.filter((g) => readableOrgs.includes(g))
    q = orgs.length
      ? q.where('guid', 'in', db.selectFrom('organizations').select('quota_guid').where('guid', 'in', orgs).where('quota_guid', 'is not', null).$castTo<{ quota_guid: string }>())
      : q.where(sql<SqlBool>`false`)
  }
  for (const c of [...timestampConditions('created_at', f.createdAts ?? {}), ...timestampConditions('updated_at', f.updatedAts ?? {})]) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

/** Space quotas a caller may see (CC's readable_space_quota_guids). */
export type SpaceQuotaVisibility =
  | { readonly all: true }
  | { readonly all: false; readonly managedOrgs: readonly string[]; readonly roleSpaces: readonly string[] }

/** CC's readable_space_quota_guids, as data for the queries. */
export function spaceQuotaVisibility(perms: Permissions): SpaceQuotaVisibility {
  if (perms.canReadGlobally) return { all: true }
  const readable = perms.readableSpaces()
  return { all: false, managedOrgs: perms.managedOrgs(), roleSpaces: readable.all ? [] : readable.spaces }
}

/** Whether any org (or space) has the quota applied: it cannot be deleted then. */
export async function quotaInUse(db: Db, table: 'organizations' | 'spaces', quotaGuid: string): Promise<boolean> {
  return (await db.selectFrom(table).select('guid').where('quota_guid', '=', quotaGuid).limit(1).executeTakeFirst()) !== undefined
}

/**
 * CC's SpaceQuotaListFetcher over readable_space_quota_guids: global readers see all; others
 * see the quotas of orgs they manage and the quotas applied to spaces where they have a role.
 */
export function listSpaceQuotas(db: Db, vis: SpaceQuotaVisibility, f: QuotaFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('space_quotas').selectAll('space_quotas')
  if (!vis.all) q = q.where((eb) => visibleSpaceQuota(eb, vis))
  if (f.names) q = q.where('name', 'in', [...f.names])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  if (f.organizationGuids) q = q.where('organization_guid', 'in', [...f.organizationGuids])
  if (f.spaceGuids) {
    q = q.where(
      'guid',
      'in',
      db.selectFrom('spaces').select('quota_guid').where('guid', 'in', [...f.spaceGuids]).where('quota_guid', 'is not', null).$castTo<{ quota_guid: string }>(),
    )
  }
  for (const c of [...timestampConditions('created_at', f.createdAts ?? {}), ...timestampConditions('updated_at', f.updatedAts ?? {})]) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

function visibleSpaceQuota(
  eb: ExpressionBuilder<Database, 'space_quotas'>,
  vis: { managedOrgs: readonly string[]; roleSpaces: readonly string[] },
): Expression<SqlBool> {
  const ors: Expression<SqlBool>[] = []
  if (vis.managedOrgs.length) ors.push(eb('organization_guid', 'in', [...vis.managedOrgs]))
  if (vis.roleSpaces.length) {
    const applied = eb
      .selectFrom('spaces')
      .select('quota_guid')
      .where('guid', 'in', [...vis.roleSpaces])
      .where('quota_guid', 'is not', null)
      .$castTo<{ quota_guid: string }>()
    ors.push(eb('guid', 'in', applied))
  }
  return ors.length ? eb.or(ors) : sql<SqlBool>`false`
}

export async function canSeeSpaceQuota(db: Db, vis: SpaceQuotaVisibility, quota: { guid: string; organization_guid: string }): Promise<boolean> {
  if (vis.all || vis.managedOrgs.includes(quota.organization_guid)) return true
  if (!vis.roleSpaces.length) return false
  const hit = await db
    .selectFrom('spaces')
    .select('guid')
    .where('quota_guid', '=', quota.guid)
    .where('guid', 'in', [...vis.roleSpaces])
    .limit(1)
    .executeTakeFirst()
  return Boolean(hit)
}

/** Guids of the orgs using each quota, for `relationships.organizations`. */
export async function organizationsByQuota(db: Db, quotaGuids: readonly string[], readableOrgs: Scope): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(quotaGuids.map((g) => [g, []]))
  if (!quotaGuids.length || (readableOrgs !== 'all' && !readableOrgs.length)) return out
  let q = db.selectFrom('organizations').select(['guid', 'quota_guid']).where('quota_guid', 'in', [...quotaGuids])
  if (readableOrgs !== 'all') q = q.where('guid', 'in', [...readableOrgs])
  for (const r of await q.orderBy('created_at').orderBy('guid').execute()) out.get(r.quota_guid!)?.push(r.guid)
  return out
}

/** Spaces using each quota, with their org, for `relationships.spaces` (filtered by the caller). */
export async function spacesByQuota(db: Db, quotaGuids: readonly string[]): Promise<Map<string, { guid: string; organization_guid: string }[]>> {
  const out = new Map<string, { guid: string; organization_guid: string }[]>(quotaGuids.map((g) => [g, []]))
  if (!quotaGuids.length) return out
  const rows = await db
    .selectFrom('spaces')
    .select(['guid', 'organization_guid', 'quota_guid'])
    .where('quota_guid', 'in', [...quotaGuids])
    .orderBy('created_at')
    .orderBy('guid')
    .execute()
  for (const r of rows) out.get(r.quota_guid!)?.push({ guid: r.guid, organization_guid: r.organization_guid })
  return out
}

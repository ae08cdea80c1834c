import { recordOrganizationQuotaEvent } from './events/quota.ts'
import { QUOTA_EVENT_TYPES } from '../audit/event-types.ts'
import type { Actor } from '../auth/principal.ts'
import { notFound, unprocessable } from '../errors/api-error.ts'
import { insertJob } from '../jobs/jobs.ts'
import { rubyList, type OrganizationQuotaCreateMessage, type QuotaLimitsMessage } from '../messages/quota.ts'
import type { OrganizationQuotaRow } from '../store/schema.ts'
import { isUniqueViolation, type Db } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'
import { checkReservedPorts, limitColumns, limitsLogRate, unlimitedLogRateHolders, unlimitedLogRateOnUpdate } from './quota-limits.ts'

const nameTaken = (name: string | undefined) => unprocessable(`Organization Quota '${name}' already exists.`)

/** Points the given orgs at the quota. */
async function pointOrgs(tx: Db, quota: { guid: string }, orgs: readonly { guid: string }[]) {
  if (!orgs.length) return
  await tx
    .updateTable('organizations')
    .set({ quota_guid: quota.guid, updated_at: new Date() })
    .where('guid', 'in', orgs.map((o) => o.guid))
    .execute()
}

/**
 * One `audit.organization_quota.apply` per org (organization_guid = the org, metadata
 * {organization_guid, organization_name}); the ledger writes go last in the transaction.
 */
async function recordApplies(tx: Db, actor: Actor, quota: { guid: string; name: string }, orgs: readonly { guid: string; name: string }[]) {
  for (const org of orgs) {
    await recordOrganizationQuotaEvent(tx, actor, quota, QUOTA_EVENT_TYPES.organizationQuotaApply, { organization_guid: org.guid, organization_name: org.name }, { organizationGuid: org.guid })
  }
}

/** Locks and returns the orgs, or CC's 422 naming the guids that do not exist. */
async function existingOrgs(tx: Db, guids: readonly string[], suffix: string) {
  if (!guids.length) return []
  const orgs = await tx.selectFrom('organizations').select(['guid', 'name']).where('guid', 'in', [...guids]).forUpdate().execute()
  const missing = guids.filter((g) => !orgs.some((o) => o.guid === g))
  if (missing.length) throw unprocessable(`Organizations with guids ${rubyList(missing)} do not exist${suffix}`)
  // Keep the request's order for the events.
  return guids.map((g) => orgs.find((o) => o.guid === g)!)
}

/** CC's OrganizationQuotasCreate: the quota and, if asked, its orgs, in one transaction. */
export async function createOrganizationQuota(
  ctx: ActionContext,
  msg: OrganizationQuotaCreateMessage,
  request: Record<string, unknown>,
): Promise<OrganizationQuotaRow> {
  const now = new Date()
  const cols = limitColumns(msg, 'create', true)
  const row = {
    guid: newGuid(),
    name: msg.name,
    ...cols,
    created_at: now,
    updated_at: now,
  }
  checkReservedPorts({ total_routes: row.total_routes ?? null, total_reserved_ports: row.total_reserved_ports ?? null })
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx.insertInto('organization_quotas').values(row).execute()
      const orgs = await existingOrgs(tx, msg.organizationGuids, ', or you do not have access to them.')
      await pointOrgs(tx, row, orgs)
      await recordOrganizationQuotaEvent(tx, ctx.actor, row, QUOTA_EVENT_TYPES.organizationQuotaCreate, { request })
      // CC records only the create here; the ledger also says which orgs got the quota.
      await recordApplies(tx, ctx.actor, row, orgs)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(msg.name)
    throw err
  }
  return (await ctx.db.selectFrom('organization_quotas').selectAll().where('guid', '=', row.guid).executeTakeFirstOrThrow())
}

/** CC's OrganizationQuotasUpdate: only the requested limits change; null makes one unlimited. */
export async function updateOrganizationQuota(
  ctx: ActionContext,
  quota: OrganizationQuotaRow,
  msg: QuotaLimitsMessage,
  request: Record<string, unknown>,
): Promise<OrganizationQuotaRow> {
  const cols = limitColumns(msg, 'update', true)
  try {
    await ctx.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('organization_quotas').selectAll().where('guid', '=', quota.guid).forUpdate().executeTakeFirst()
      if (!current) throw notFound('Organization quota')
      if (limitsLogRate(cols.log_rate_limit_in_bytes_per_second)) {
        const orgs = await tx.selectFrom('organizations').select('guid').where('quota_guid', '=', quota.guid).execute()
        const names = await unlimitedLogRateHolders(tx, 'organization', orgs.map((o) => o.guid))
        if (names.length) throw unlimitedLogRateOnUpdate('org', names)
      }
      checkReservedPorts({
        total_routes: cols.total_routes !== undefined ? cols.total_routes : current.total_routes,
        total_reserved_ports: cols.total_reserved_ports !== undefined ? cols.total_reserved_ports : current.total_reserved_ports,
      })
      const name = msg.name ?? current.name
      await tx
        .updateTable('organization_quotas')
        .set({ ...cols, name, updated_at: new Date() })
        .where('guid', '=', quota.guid)
        .execute()
      await recordOrganizationQuotaEvent(tx, ctx.actor, { guid: quota.guid, name }, QUOTA_EVENT_TYPES.organizationQuotaUpdate, { request })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(msg.name)
    throw err
  }
  return (await ctx.db.selectFrom('organization_quotas').selectAll().where('guid', '=', quota.guid).executeTakeFirstOrThrow())
}

/**
 * CC's OrganizationQuotaApply (POST …/relationships/organizations). Returns the guids of every
 * org now using the quota.
 */
export async function applyOrganizationQuota(ctx: ActionContext, quota: OrganizationQuotaRow, orgGuids: readonly string[]): Promise<string[]> {
  return ctx.db.transaction().execute(async (tx) => {
    // Serialises with a concurrent delete of the quota.
    const locked = await tx.selectFrom('organization_quotas').select('guid').where('guid', '=', quota.guid).forUpdate().executeTakeFirst()
    if (!locked) throw notFound('Organization quota')
    const orgs = await existingOrgs(tx, orgGuids, ', or you do not have access to them.')
    if (limitsLogRate(quota.log_rate_limit_in_bytes_per_second)) {
      const names = await unlimitedLogRateHolders(tx, 'organization', orgs.map((o) => o.guid))
      if (names.length) {
        throw unprocessable(
          'Current usage exceeds new quota values. The org(s) being assigned this quota contain apps running with an unlimited log rate limit.',
        )
      }
    }
    await pointOrgs(tx, quota, orgs)
    const all = await tx.selectFrom('organizations').select('guid').where('quota_guid', '=', quota.guid).orderBy('created_at').orderBy('guid').execute()
    await recordApplies(tx, ctx.actor, quota, orgs)
    return all.map((o) => o.guid)
  })
}

export const ORG_QUOTA_APPLIED_TEXT = 'This quota is applied to one or more organizations. Apply different quotas to those organizations before deleting.'

/** DELETE answers 202 with a job, as CC does; the job deletes and records the event. */
export async function requestOrganizationQuotaDelete(ctx: ActionContext, quota: OrganizationQuotaRow): Promise<string> {
  return insertJob(ctx.db, { operation: 'organization_quota.delete', resourceType: 'organization_quota', resourceGuid: quota.guid, actor: ctx.actor })
}

/** The job's work (CC's OrganizationQuotaDeleteAction): `audit.organization_quota.delete`, then the row. */
export async function deleteOrganizationQuota(tx: Db, guid: string, actor: Actor): Promise<void> {
  const quota = await tx.selectFrom('organization_quotas').select(['guid', 'name']).where('guid', '=', guid).forUpdate().executeTakeFirst()
  if (!quota) return
  const inUse = await tx.selectFrom('organizations').select('guid').where('quota_guid', '=', guid).limit(1).executeTakeFirst()
  if (inUse) throw unprocessable(ORG_QUOTA_APPLIED_TEXT)
  await tx.deleteFrom('organization_quotas').where('guid', '=', guid).execute()
  await recordOrganizationQuotaEvent(tx, actor, quota, QUOTA_EVENT_TYPES.organizationQuotaDelete, {})
}

import { recordSpaceQuotaEvent } from './events/quota.ts'
import { QUOTA_EVENT_TYPES } from '../audit/event-types.ts'
import type { Actor } from '../auth/principal.ts'
import { notFound, unprocessable } from '../errors/api-error.ts'
import { insertJob } from '../jobs/jobs.ts'
import { rubyList, type QuotaLimitsMessage, type SpaceQuotaCreateMessage } from '../messages/quota.ts'
import type { OrganizationRow, SpaceQuotaRow } from '../store/schema.ts'
import { isUniqueViolation, type Db } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'
import { checkReservedPorts, limitColumns, limitsLogRate, unlimitedLogRateHolders, unlimitedLogRateOnUpdate } from './quota-limits.ts'

const nameTaken = (name: string | undefined) => unprocessable(`Space Quota '${name}' already exists.`)

interface SpaceRef {
  readonly guid: string
  readonly name: string
}

async function pointSpaces(tx: Db, quotaGuid: string | null, spaces: readonly SpaceRef[]) {
  if (!spaces.length) return
  await tx
    .updateTable('spaces')
    .set({ quota_guid: quotaGuid, updated_at: new Date() })
    .where('guid', 'in', spaces.map((s) => s.guid))
    .execute()
}

/**
 * `audit.space_quota.apply` / `.remove`, one per space: space_guid = the space,
 * organization_guid = the quota's org, metadata {space_guid, space_name}.
 */
async function recordSpaceEvents(tx: Db, type: string, actor: Actor, quota: { guid: string; name: string; organization_guid: string }, spaces: readonly SpaceRef[]) {
  for (const space of spaces) {
    await recordSpaceQuotaEvent(tx, actor, quota, type, { space_guid: space.guid, space_name: space.name }, { spaceGuid: space.guid, organizationGuid: quota.organization_guid })
  }
}

/** CC's SpaceQuotasCreate: the quota (owned by `org`) and, if asked, its spaces in that org. */
export async function createSpaceQuota(
  ctx: ActionContext,
  org: OrganizationRow,
  msg: SpaceQuotaCreateMessage,
  request: Record<string, unknown>,
): Promise<SpaceQuotaRow> {
  const now = new Date()
  const row = {
    guid: newGuid(),
    name: msg.name,
    organization_guid: org.guid,
    ...limitColumns(msg, 'create', false),
    created_at: now,
    updated_at: now,
  }
  checkReservedPorts({ total_routes: row.total_routes ?? null, total_reserved_ports: row.total_reserved_ports ?? null })
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx.insertInto('space_quotas').values(row).execute()
      let spaces: SpaceRef[] = []
      if (msg.spaceGuids.length) {
        const found = await tx
          .selectFrom('spaces')
          .select(['guid', 'name'])
          .where('organization_guid', '=', org.guid)
          .where('guid', 'in', msg.spaceGuids)
          .forUpdate()
          .execute()
        const missing = msg.spaceGuids.filter((g) => !found.some((s) => s.guid === g))
        if (missing.length) {
          throw unprocessable(`Spaces with guids ${rubyList(missing)} do not exist within the organization specified, or you do not have access to them.`)
        }
        spaces = msg.spaceGuids.map((g) => found.find((s) => s.guid === g)!)
      }
      await pointSpaces(tx, row.guid, spaces)
      await recordSpaceQuotaEvent(tx, ctx.actor, row, QUOTA_EVENT_TYPES.spaceQuotaCreate, { request }, { organizationGuid: org.guid })
      // CC records only the create here; the ledger also says which spaces got the quota.
      await recordSpaceEvents(tx, QUOTA_EVENT_TYPES.spaceQuotaApply, ctx.actor, row, spaces)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(msg.name)
    throw err
  }
  return ctx.db.selectFrom('space_quotas').selectAll().where('guid', '=', row.guid).executeTakeFirstOrThrow()
}

/** CC's SpaceQuotaUpdate: only the requested limits change; null makes one unlimited. */
export async function updateSpaceQuota(
  ctx: ActionContext,
  quota: SpaceQuotaRow,
  msg: QuotaLimitsMessage,
  request: Record<string, unknown>,
): Promise<SpaceQuotaRow> {
  const cols = limitColumns(msg, 'update', false)
  try {
    await ctx.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('space_quotas').selectAll().where('guid', '=', quota.guid).forUpdate().executeTakeFirst()
      if (!current) throw notFound('Space quota')
      if (limitsLogRate(cols.log_rate_limit_in_bytes_per_second)) {
        const spaces = await tx.selectFrom('spaces').select('guid').where('quota_guid', '=', quota.guid).execute()
        const names = await unlimitedLogRateHolders(tx, 'space', spaces.map((s) => s.guid))
        if (names.length) throw unlimitedLogRateOnUpdate('space', names)
      }
      checkReservedPorts({
        total_routes: cols.total_routes !== undefined ? cols.total_routes : current.total_routes,
        total_reserved_ports: cols.total_reserved_ports !== undefined ? cols.total_reserved_ports : current.total_reserved_ports,
      })
      const name = msg.name ?? current.name
      await tx
        .updateTable('space_quotas')
        .set({ ...cols, name, updated_at: new Date() })
        .where('guid', '=', quota.guid)
        .execute()
      await recordSpaceQuotaEvent(tx, ctx.actor, { guid: quota.guid, name }, QUOTA_EVENT_TYPES.spaceQuotaUpdate, { request }, { organizationGuid: quota.organization_guid })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(msg.name)
    throw err
  }
  return ctx.db.selectFrom('space_quotas').selectAll().where('guid', '=', quota.guid).executeTakeFirstOrThrow()
}

/**
 * CC's SpaceQuotaApply (POST …/relationships/spaces): the spaces must exist, be readable by
 * the caller and belong to the quota's org. Returns the guids of every space now using it.
 */
export async function applySpaceQuota(
  ctx: ActionContext,
  quota: SpaceQuotaRow,
  spaceGuids: readonly string[],
  canReadSpace: (space: { guid: string; organization_guid: string }) => boolean,
): Promise<string[]> {
  return ctx.db.transaction().execute(async (tx) => {
    const locked = await tx.selectFrom('space_quotas').select('guid').where('guid', '=', quota.guid).forUpdate().executeTakeFirst()
    if (!locked) throw notFound('Space quota')
    const found = spaceGuids.length
      ? await tx.selectFrom('spaces').select(['guid', 'name', 'organization_guid']).where('guid', 'in', [...spaceGuids]).forUpdate().execute()
      : []
    const nonexistent = spaceGuids.filter((g) => !found.some((s) => s.guid === g))
    const unreadable = found.filter((s) => !canReadSpace(s)).map((s) => s.guid)
    const invalid = [...nonexistent, ...unreadable]
    if (invalid.length) throw unprocessable(`Spaces with guids ${rubyList(invalid)} do not exist, or you do not have access to them.`)
    if (found.some((s) => s.organization_guid !== quota.organization_guid)) {
      throw unprocessable('Space quotas cannot be applied outside of their owning organization.')
    }
    if (limitsLogRate(quota.log_rate_limit_in_bytes_per_second)) {
      const names = await unlimitedLogRateHolders(tx, 'space', found.map((s) => s.guid))
      if (names.length) {
        throw unprocessable(
          'Current usage exceeds new quota values. The space(s) being assigned this quota contain apps running with an unlimited log rate limit.',
        )
      }
    }
    const spaces = spaceGuids.map((g) => found.find((s) => s.guid === g)!)
    await pointSpaces(tx, quota.guid, spaces)
    const all = await tx.selectFrom('spaces').select('guid').where('quota_guid', '=', quota.guid).orderBy('created_at').orderBy('guid').execute()
    await recordSpaceEvents(tx, QUOTA_EVENT_TYPES.spaceQuotaApply, ctx.actor, quota, spaces)
    return all.map((s) => s.guid)
  })
}

/** CC's SpaceQuotaUnapply (DELETE …/relationships/spaces/:space_guid). */
export async function removeSpaceQuota(ctx: ActionContext, quota: SpaceQuotaRow, spaceGuid: string): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    const space = await tx.selectFrom('spaces').select(['guid', 'name', 'quota_guid']).where('guid', '=', spaceGuid).forUpdate().executeTakeFirst()
    if (!space || space.quota_guid !== quota.guid) {
      throw unprocessable(`Unable to remove quota from space with guid '${spaceGuid}'. Ensure the space quota is applied to this space.`)
    }
    await pointSpaces(tx, null, [space])
    await recordSpaceEvents(tx, QUOTA_EVENT_TYPES.spaceQuotaRemove, ctx.actor, quota, [space])
  })
}

export const SPACE_QUOTA_APPLIED_TEXT = 'This quota is applied to one or more spaces. Remove this quota from all spaces before deleting.'

export async function requestSpaceQuotaDelete(ctx: ActionContext, quota: SpaceQuotaRow): Promise<string> {
  return insertJob(ctx.db, { operation: 'space_quota.delete', resourceType: 'space_quota', resourceGuid: quota.guid, actor: ctx.actor })
}

/** The job's work (CC's SpaceQuotaDeleteAction): the row, then `audit.space_quota.delete`. */
export async function deleteSpaceQuota(tx: Db, guid: string, actor: Actor): Promise<void> {
  const quota = await tx.selectFrom('space_quotas').select(['guid', 'name', 'organization_guid']).where('guid', '=', guid).forUpdate().executeTakeFirst()
  if (!quota) return
  const inUse = await tx.selectFrom('spaces').select('guid').where('quota_guid', '=', guid).limit(1).executeTakeFirst()
  if (inUse) throw unprocessable(SPACE_QUOTA_APPLIED_TEXT)
  await tx.deleteFrom('space_quotas').where('guid', '=', guid).execute()
  await recordSpaceQuotaEvent(tx, actor, quota, QUOTA_EVENT_TYPES.spaceQuotaDelete, {}, { organizationGuid: quota.organization_guid })
}

import { recordOrganizationEvent } from './events/organization.ts'
import { recordRoleEvent } from './events/role.ts'
import { EVENT_TYPES, roleEventType } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { OrganizationRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { ensureUser } from './role-create.ts'
import { newGuid } from '../store/ids.ts'

export interface OrganizationCreateMessage {
  readonly name: string
  readonly suspended?: boolean
  readonly metadata?: MetadataPatch
}

/**
 * `POST /v3/organizations`. With `owner` (a non-admin creating an org under the
 * user_org_creation feature flag) the creator also becomes its organization_user and
 * organization_manager, in the same transaction, as CC does.
 */
export async function createOrganization(
  ctx: ActionContext,
  msg: OrganizationCreateMessage,
  request: Record<string, unknown>,
  owner?: { readonly guid: string; readonly username: string },
): Promise<OrganizationRow> {
  const now = new Date()
  const meta = applyMetadata({ labels: {}, annotations: {} }, msg.metadata)
  const row: OrganizationRow = {
    guid: newGuid(),
    name: msg.name,
    suspended: msg.suspended ?? false,
    quota_guid: null,
    created_at: now,
    updated_at: now,
    ...meta,
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('organizations')
        .values({ ...row, labels: JSON.stringify(row.labels), annotations: JSON.stringify(row.annotations) })
        .execute()
      await recordOrganizationEvent(tx, ctx.actor, row, EVENT_TYPES.organizationCreate, { request })
      if (owner) {
        await ensureUser(tx, owner.guid)
        for (const type of ['organization_user', 'organization_manager']) {
          await tx.insertInto('roles').values({ guid: newGuid(), type, user_guid: owner.guid, organization_guid: row.guid, space_guid: null, created_at: now, updated_at: now }).execute()
          const request = { type, relationships: { user: { data: { guid: owner.guid } }, organization: { data: { guid: row.guid } } } }
          await recordRoleEvent(tx, ctx.actor, owner, roleEventType(type, 'add'), { request }, { organizationGuid: row.guid })
        }
      }
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(`Organization '${msg.name}' already exists.`)
    throw err
  }
  return row
}

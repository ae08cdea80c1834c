import { sql } from 'kysely'
import { recordRoleEvent } from './events/role.ts'
import { roleEventType } from '../audit/event-types.ts'
import { SPACE_ROLE_TYPES } from '../authz/permissions.ts'
import { unprocessable } from '../errors/api-error.ts'
import type { OrganizationRow, RoleRow, SpaceRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

export interface RoleTarget {
  readonly type: string
  readonly user: { readonly guid: string; readonly username: string | null }
  readonly organization: OrganizationRow
  readonly space?: SpaceRow
}

/** Creates the CC user record when the guid is new, as CC does for roles given by guid. */
export async function ensureUser(db: ActionContext['db'], guid: string): Promise<void> {
  const now = new Date()
  await db
    .insertInto('users')
    .values({ guid, created_at: now, updated_at: now, labels: '{}', annotations: '{}' })
    .onConflict((oc) => oc.column('guid').doNothing())
    .execute()
}

export async function createRole(ctx: ActionContext, t: RoleTarget, request: Record<string, unknown>): Promise<RoleRow> {
  const isSpaceRole = (SPACE_ROLE_TYPES as readonly string[]).includes(t.type)
  const now = new Date()
  const row: RoleRow = {
    guid: newGuid(),
    type: t.type,
    user_guid: t.user.guid,
    organization_guid: t.organization.guid,
    space_guid: isSpaceRole ? t.space!.guid : null,
    created_at: now,
    updated_at: now,
  }
  const who = t.user.username ?? t.user.guid
  const duplicate = isSpaceRole
    ? `User '${who}' already has '${t.type}' role in space '${t.space!.name}'.`
    : `User '${who}' already has '${t.type}' role in organization '${t.organization.name}'.`
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await ensureUser(tx, t.user.guid)
      if (isSpaceRole) {
        // CC's Space#in_organization?: the user must be an organization_user of the space's org.
        // Lock that membership so it cannot be removed while this role is added.
        const member = await sql`select 1 from roles where user_guid = ${t.user.guid}
          and organization_guid = ${t.organization.guid} and space_guid is null
          and type = 'organization_user' for update`.execute(tx)
        if (member.rows.length === 0) {
          throw unprocessable("Users cannot be assigned roles in a space if they do not have a role in that space's organization.")
        }
      }
      await tx.insertInto('roles').values(row).execute()
      await recordRoleEvent(tx, ctx.actor, t.user, roleEventType(t.type, 'add'), { request }, { spaceGuid: row.space_guid, organizationGuid: t.organization.guid })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(duplicate)
    throw err
  }
  return row
}

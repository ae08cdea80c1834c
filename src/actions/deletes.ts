import { recordOrganizationEvent } from './events/organization.ts'
import { recordRoleEvent } from './events/role.ts'
import { recordSpaceEvent } from './events/space.ts'
import { EVENT_TYPES, roleEventType } from '../audit/event-types.ts'
import type { Actor } from '../auth/principal.ts'
import { insertJob } from '../jobs/jobs.ts'
import type { AfterCommit, JobHandler } from '../jobs/runner.ts'
import type { OrganizationRow, RoleRow, SpaceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import type { ActionContext } from './context.ts'

/**
 * Work other modules add to a space's deletion (apps, tasks, bindings). Each runs inside the
 * deleting transaction before the space row goes.
 */
export type SpaceCascade = (tx: Db, spaceGuid: string, actor: Actor, afterCommit: AfterCommit) => Promise<void>

/** CC records the delete request at once and does the deletion in a job (202 + Location). */
export async function requestOrganizationDelete(ctx: ActionContext, org: OrganizationRow): Promise<string> {
  return ctx.db.transaction().execute(async (tx) => {
    const job = await insertJob(tx, { operation: 'organization.delete', resourceType: 'organization', resourceGuid: org.guid, actor: ctx.actor })
    await recordOrganizationEvent(tx, ctx.actor, org, EVENT_TYPES.organizationDeleteRequest, { request: { recursive: true } })
    return job
  })
}

export async function requestSpaceDelete(ctx: ActionContext, space: SpaceRow): Promise<string> {
  return ctx.db.transaction().execute(async (tx) => {
    const job = await insertJob(tx, { operation: 'space.delete', resourceType: 'space', resourceGuid: space.guid, actor: ctx.actor })
    await recordSpaceEvent(tx, ctx.actor, space, EVENT_TYPES.spaceDeleteRequest, { request: { recursive: true } })
    return job
  })
}

export async function requestRoleDelete(ctx: ActionContext, role: RoleRow): Promise<string> {
  return insertJob(ctx.db, { operation: 'role.delete', resourceType: 'role', resourceGuid: role.guid, actor: ctx.actor })
}

export async function requestUserDelete(ctx: ActionContext, userGuid: string): Promise<string> {
  return insertJob(ctx.db, { operation: 'user.delete', resourceType: 'user', resourceGuid: userGuid, actor: ctx.actor })
}

async function deleteSpace(tx: Db, spaceGuid: string, actor: Actor, cascades: readonly SpaceCascade[], afterCommit: AfterCommit) {
  for (const cascade of cascades) await cascade(tx, spaceGuid, actor, afterCommit)
  await tx.deleteFrom('roles').where('space_guid', '=', spaceGuid).execute()
  await tx.deleteFrom('spaces').where('guid', '=', spaceGuid).execute()
}

async function deleteRoleWithEvent(tx: Db, role: RoleRow, actor: Actor) {
  const [space, user] = await Promise.all([
    role.space_guid ? tx.selectFrom('spaces').select('organization_guid').where('guid', '=', role.space_guid).executeTakeFirst() : undefined,
    tx.selectFrom('uaa_users').select('username').where('id', '=', role.user_guid).executeTakeFirst(),
  ])
  await tx.deleteFrom('roles').where('guid', '=', role.guid).execute()
  await recordRoleEvent(tx, actor, { guid: role.user_guid, username: user?.username }, roleEventType(role.type, 'remove'), { request: {} }, {
    spaceGuid: role.space_guid,
    organizationGuid: space?.organization_guid ?? role.organization_guid ?? '',
  })
}

export function deleteJobHandlers(cascades: readonly SpaceCascade[]): Record<string, JobHandler> {
  return {
    'space.delete': (tx, job, afterCommit) => deleteSpace(tx, job.resource_guid, job.actor, cascades, afterCommit),
    'organization.delete': async (tx, job, afterCommit) => {
      const spaces = await tx.selectFrom('spaces').select('guid').where('organization_guid', '=', job.resource_guid).execute()
      for (const s of spaces) await deleteSpace(tx, s.guid, job.actor, cascades, afterCommit)
      await tx.deleteFrom('roles').where('organization_guid', '=', job.resource_guid).execute()
      await tx.deleteFrom('space_quotas').where('organization_guid', '=', job.resource_guid).execute()
      await tx.deleteFrom('organizations').where('guid', '=', job.resource_guid).execute()
    },
    'role.delete': async (tx, job) => {
      const role = await tx.selectFrom('roles').selectAll().where('guid', '=', job.resource_guid).executeTakeFirst()
      if (role) await deleteRoleWithEvent(tx, role, job.actor)
    },
    'user.delete': async (tx, job) => {
      const roles = await tx.selectFrom('roles').selectAll().where('user_guid', '=', job.resource_guid).execute()
      // Space roles first, so no org_user role is removed while space roles remain.
      for (const r of [...roles].sort((a, b) => Number(!a.space_guid) - Number(!b.space_guid))) {
        await deleteRoleWithEvent(tx, r, job.actor)
      }
      await tx.deleteFrom('users').where('guid', '=', job.resource_guid).execute()
    },
  }
}

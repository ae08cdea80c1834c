// `PATCH /v3/apps/:guid/features/ssh` and `/v3/spaces/:guid/features/ssh`. CC writes no event for
// these; cf-ledger records every change, so they are written as the v2 API records the same
// switch: audit.app.update with `enable_ssh`, audit.space.update with `allow_ssh`.
import { recordSpaceEvent } from './events/space.ts'
import { APP_EVENT_TYPES, EVENT_TYPES } from '../audit/event-types.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { AppRow, SpaceRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'

export async function setAppSsh(ctx: ActionContext, target: AppWithSpace, enabled: boolean): Promise<AppRow> {
  return ctx.db.transaction().execute(async (tx) => {
    const app = await tx.updateTable('apps').set({ enable_ssh: enabled, updated_at: new Date() }).where('guid', '=', target.app.guid).returningAll().executeTakeFirstOrThrow()
    await recordAppEvent(tx, app, target.space.organization_guid, ctx.actor, APP_EVENT_TYPES.update, { request: { enable_ssh: enabled } })
    return app
  })
}

export async function setSpaceSsh(ctx: ActionContext, space: SpaceRow, enabled: boolean): Promise<SpaceRow> {
  return ctx.db.transaction().execute(async (tx) => {
    const row = await tx.updateTable('spaces').set({ allow_ssh: enabled, updated_at: new Date() }).where('guid', '=', space.guid).returningAll().executeTakeFirstOrThrow()
    await recordSpaceEvent(tx, ctx.actor, space, EVENT_TYPES.spaceUpdate, { request: { allow_ssh: enabled } })
    return row
  })
}

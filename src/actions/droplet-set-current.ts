import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { AppRow, DropletRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { defaultProcess } from './app-create.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'

/**
 * Creates a process for each of the droplet's process types the app lacks, with
 * `audit.app.process.create`, as CC's CurrentProcessTypes does when a droplet becomes current.
 */
export async function ensureProcessTypes(tx: Db, ctx: ActionContext, owner: AppWithSpace, processTypes: Record<string, string>) {
  const existing = new Set(
    (await tx.selectFrom('processes').select('type').where('app_guid', '=', owner.app.guid).execute()).map((p) => p.type),
  )
  const now = new Date()
  for (const type of Object.keys(processTypes)) {
    if (existing.has(type)) continue
    const { guid } = await tx.insertInto('processes').values(defaultProcess(owner.app.guid, type, now)).returning('guid').executeTakeFirstOrThrow()
    await recordAppEvent(tx, owner.app, owner.space.organization_guid, ctx.actor, APP_EVENT_TYPES.processCreate, {
      process_guid: guid,
      process_type: type,
    })
  }
}

/**
 * `PATCH /v3/apps/:guid/relationships/current_droplet` (CC's AppAssignDroplet): the droplet must
 * be this app's and staged. A started app may change droplet too, as in CC (`cf push` of a started
 * app sets the new droplet before restarting it); running tasks keep the droplet they started
 * with. Records `audit.app.droplet.mapped`.
 */
export async function setCurrentDroplet(ctx: ActionContext, owner: AppWithSpace, droplet: DropletRow | undefined): Promise<AppRow> {
  if (!droplet || droplet.app_guid !== owner.app.guid || droplet.state !== 'STAGED') {
    throw unprocessable('Unable to assign current droplet. Ensure the droplet exists and belongs to this app.')
  }
  return ctx.db.transaction().execute(async (tx) => {
    const app = await tx.selectFrom('apps').selectAll().where('guid', '=', owner.app.guid).forUpdate().executeTakeFirstOrThrow()
    const updated = await tx
      .updateTable('apps')
      .set({ current_droplet_guid: droplet.guid, updated_at: new Date() })
      .where('guid', '=', app.guid)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordAppEvent(tx, app, owner.space.organization_guid, ctx.actor, APP_EVENT_TYPES.dropletMapped, {
      request: { droplet_guid: droplet.guid },
    })
    await ensureProcessTypes(tx, ctx, { ...owner, app: updated }, droplet.process_types)
    return updated
  })
}

import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import type { Actor } from '../auth/principal.ts'
import { insertJob } from '../jobs/jobs.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { Db } from '../store/store.ts'
import { recordAppEvent } from './events/app.ts'
import { deleteBindingInTx } from './service-bindings.ts'
import type { ActionContext } from './context.ts'
import { recordTaskCancel } from './events/task.ts'

/** `DELETE /v3/apps/:guid`: the delete request is recorded now and done by an `app.delete` job. */
export async function requestAppDelete(ctx: ActionContext, target: AppWithSpace): Promise<string> {
  return ctx.db.transaction().execute(async (tx) => {
    const job = await insertJob(tx, { operation: 'app.delete', resourceType: 'app', resourceGuid: target.app.guid, actor: ctx.actor })
    await recordAppEvent(tx, target.app, target.space.organization_guid, ctx.actor, APP_EVENT_TYPES.deleteRequest, {})
    return job
  })
}

/**
 * Deletes an app in the job's transaction. As CC's TaskDelete, every running task gets a cancel
 * event; the caller stops the processes after commit. Task rows stay for the audit trail.
 */
export async function deleteApp(tx: Db, appGuid: string, actor: Actor): Promise<string[]> {
  const app = await tx.selectFrom('apps').selectAll().where('guid', '=', appGuid).forUpdate().executeTakeFirst()
  if (!app) return []
  const active = await tx.selectFrom('tasks').selectAll().where('app_guid', '=', appGuid).where('state', 'in', ['PENDING', 'RUNNING']).execute()
  for (const t of active) {
    const updated = await tx.updateTable('tasks').set({ state: 'CANCELING', updated_at: new Date() }).where('guid', '=', t.guid).returningAll().executeTakeFirstOrThrow()
    if (t.state === 'RUNNING') await recordTaskCancel(tx, updated, actor)
  }
  const space = await tx.selectFrom('spaces').select('organization_guid').where('guid', '=', app.space_guid).executeTakeFirstOrThrow()
  // Unbinding is recorded as CC does (audit.service_binding.delete), not left to the cascade.
  const bindings = await tx.selectFrom('service_bindings').selectAll().where('app_guid', '=', appGuid).execute()
  for (const b of bindings) await deleteBindingInTx(tx, { db: tx, actor }, b, app.space_guid, space.organization_guid)
  await recordAppEvent(tx, app, space.organization_guid, actor, APP_EVENT_TYPES.stop, { delete_triggered: true, reason: 'stopped as part of app deletion' })
  // Packages and droplets go with the app (cascade); their blobs go unless another row shares them.
  const blobRows = await tx
    .selectFrom('packages')
    .select('blob_guid')
    .where('app_guid', '=', appGuid)
    .union(tx.selectFrom('droplets').select('blob_guid').where('app_guid', '=', appGuid))
    .execute()
  const blobs = blobRows.map((r) => r.blob_guid).filter((g): g is string => g !== null)
  await tx.deleteFrom('apps').where('guid', '=', appGuid).execute()
  if (blobs.length) {
    await tx
      .deleteFrom('blobs')
      .where('guid', 'in', blobs)
      .where((eb) =>
        eb.and([
          eb.not(eb.exists(eb.selectFrom('packages').select('guid').whereRef('packages.blob_guid', '=', 'blobs.guid'))),
          eb.not(eb.exists(eb.selectFrom('droplets').select('guid').whereRef('droplets.blob_guid', '=', 'blobs.guid'))),
        ]),
      )
      .execute()
  }
  return active.map((t) => t.guid)
}

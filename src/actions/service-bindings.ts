// App credential bindings (type `app`) of user-provided instances, with CC's
// ServiceBindingEventRepository events. A binding to an instance with a syslog_drain_url is a drain.
import { recordServiceBindingEvent } from './events/service.ts'
import { SERVICE_EVENT_TYPES } from '../audit/event-types.ts'
import { redactBindingRequest } from '../audit/redaction.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { AppRow, ServiceBindingRow, ServiceInstanceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

function recordBindingEvent(tx: Db, ctx: ActionContext, type: string, b: ServiceBindingRow, spaceGuid: string, orgGuid: string, request: Record<string, unknown>) {
  return recordServiceBindingEvent(tx, ctx.actor, b, { spaceGuid, organizationGuid: orgGuid }, type, request)
}

export async function createAppBinding(
  ctx: ActionContext,
  app: AppRow,
  orgGuid: string,
  si: ServiceInstanceRow,
  msg: { name?: string | null; metadata?: MetadataPatch },
  request: Record<string, unknown>,
): Promise<ServiceBindingRow> {
  const now = new Date()
  const meta = applyMetadata({ labels: {}, annotations: {} }, msg.metadata)
  const row: ServiceBindingRow = {
    guid: newGuid(),
    type: 'app',
    name: msg.name ?? null,
    app_guid: app.guid,
    service_instance_guid: si.guid,
    created_at: now,
    updated_at: now,
    ...meta,
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('service_bindings')
        .values({ ...row, labels: JSON.stringify(row.labels), annotations: JSON.stringify(row.annotations) })
        .execute()
      await recordBindingEvent(tx, ctx, SERVICE_EVENT_TYPES.bindingCreate, row, app.space_guid, orgGuid, redactBindingRequest(request))
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable('The app is already bound to the service instance.')
    throw err
  }
  return row
}

export async function deleteBindingInTx(tx: Db, ctx: ActionContext, b: ServiceBindingRow, spaceGuid: string, orgGuid: string): Promise<void> {
  await tx.deleteFrom('service_bindings').where('guid', '=', b.guid).execute()
  await recordBindingEvent(tx, ctx, SERVICE_EVENT_TYPES.bindingDelete, b, spaceGuid, orgGuid, {
    app_guid: b.app_guid,
    service_instance_guid: b.service_instance_guid,
  })
}

export async function deleteAppBinding(ctx: ActionContext, b: ServiceBindingRow, spaceGuid: string, orgGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => deleteBindingInTx(tx, ctx, b, spaceGuid, orgGuid))
}

/** `GET /v3/service_credential_bindings/:guid/details` reads secrets: CC records who did. */
export async function recordBindingShow(ctx: ActionContext, b: ServiceBindingRow, spaceGuid: string, orgGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) =>
    recordBindingEvent(tx, ctx, SERVICE_EVENT_TYPES.bindingShow, b, spaceGuid, orgGuid, {
      service_instance_guid: b.service_instance_guid,
      app_guid: b.app_guid,
    }),
  )
}

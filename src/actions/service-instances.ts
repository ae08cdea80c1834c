// User-provided service instances: create, update and delete with CC's audit events
// (ServiceEventRepository#record_user_provided_service_instance_event). Credentials are
// `[REDACTED]` in the event; URLs keep their shape with `***:***` as userinfo.
import { recordUserProvidedServiceInstanceEvent } from './events/service.ts'
import { SERVICE_EVENT_TYPES } from '../audit/event-types.ts'
import { redactUserProvidedServiceInstanceEvent } from '../audit/redaction.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { ServiceInstanceRow, SpaceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'
import { deleteBindingInTx } from './service-bindings.ts'

export interface UserProvidedMessage {
  readonly name?: string
  readonly credentials?: Record<string, unknown>
  readonly syslog_drain_url?: string | null
  readonly route_service_url?: string | null
  readonly tags?: string[]
  readonly metadata?: MetadataPatch
}

const nameTaken = (name: string) => unprocessable(`The service instance name is taken: ${name}`)

function recordUpsiEvent(tx: Db, ctx: ActionContext, type: string, si: ServiceInstanceRow, orgGuid: string, request: Record<string, unknown>) {
  return recordUserProvidedServiceInstanceEvent(tx, ctx.actor, si, orgGuid, type, request)
}

export async function createUserProvided(
  ctx: ActionContext,
  space: SpaceRow,
  msg: UserProvidedMessage & { name: string },
  request: Record<string, unknown>,
): Promise<ServiceInstanceRow> {
  const now = new Date()
  const meta = applyMetadata({ labels: {}, annotations: {} }, msg.metadata)
  const row: ServiceInstanceRow = {
    guid: newGuid(),
    name: msg.name,
    type: 'user-provided',
    space_guid: space.guid,
    credentials: msg.credentials ?? {},
    syslog_drain_url: msg.syslog_drain_url ?? null,
    route_service_url: msg.route_service_url ?? null,
    tags: msg.tags ?? [],
    created_at: now,
    updated_at: now,
    ...meta,
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('service_instances')
        .values({
          ...row,
          credentials: JSON.stringify(row.credentials),
          tags: JSON.stringify(row.tags),
          labels: JSON.stringify(row.labels),
          annotations: JSON.stringify(row.annotations),
        })
        .execute()
      await recordUpsiEvent(tx, ctx, SERVICE_EVENT_TYPES.userProvidedCreate, row, space.organization_guid, redactUserProvidedServiceInstanceEvent(request))
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(msg.name)
    throw err
  }
  return row
}

export async function updateUserProvided(
  ctx: ActionContext,
  si: ServiceInstanceRow,
  orgGuid: string,
  msg: UserProvidedMessage,
  request: Record<string, unknown>,
): Promise<ServiceInstanceRow> {
  const meta = applyMetadata(si, msg.metadata)
  const next: ServiceInstanceRow = {
    ...si,
    name: msg.name ?? si.name,
    credentials: msg.credentials ?? si.credentials,
    syslog_drain_url: msg.syslog_drain_url !== undefined ? msg.syslog_drain_url : si.syslog_drain_url,
    route_service_url: msg.route_service_url !== undefined ? msg.route_service_url : si.route_service_url,
    tags: msg.tags ?? si.tags,
    ...meta,
    updated_at: new Date(),
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('service_instances')
        .set({
          name: next.name,
          credentials: JSON.stringify(next.credentials),
          syslog_drain_url: next.syslog_drain_url,
          route_service_url: next.route_service_url,
          tags: JSON.stringify(next.tags),
          labels: JSON.stringify(next.labels),
          annotations: JSON.stringify(next.annotations),
          updated_at: next.updated_at,
        })
        .where('guid', '=', si.guid)
        .execute()
      await recordUpsiEvent(tx, ctx, SERVICE_EVENT_TYPES.userProvidedUpdate, next, orgGuid, redactUserProvidedServiceInstanceEvent(request))
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(next.name)
    throw err
  }
  return next
}

/** CC unbinds a user-provided instance's app bindings (each with its event) before deleting it. */
export async function deleteUserProvided(ctx: ActionContext, si: ServiceInstanceRow, orgGuid: string): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    const bindings = await tx.selectFrom('service_bindings').selectAll().where('service_instance_guid', '=', si.guid).orderBy('created_at').execute()
    for (const b of bindings) {
      const app = await tx.selectFrom('apps').select('space_guid').where('guid', '=', b.app_guid).executeTakeFirstOrThrow()
      await deleteBindingInTx(tx, ctx, b, app.space_guid, orgGuid)
    }
    await tx.deleteFrom('service_instances').where('guid', '=', si.guid).execute()
    await recordUpsiEvent(tx, ctx, SERVICE_EVENT_TYPES.userProvidedDelete, si, orgGuid, {})
  })
}

/** `GET /v3/service_instances/:guid/credentials` reads secrets: CC records who did. */
export async function recordCredentialsShow(ctx: ActionContext, si: ServiceInstanceRow, orgGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => recordUpsiEvent(tx, ctx, SERVICE_EVENT_TYPES.userProvidedShow, si, orgGuid, {}))
}

/**
 * Deleting a space deletes its user-provided instances (v3 space deletes are recursive): each
 * app binding first, then the instance, each with its event, in the deleting job's transaction.
 * Run it before the space's apps are deleted so the bindings' events are recorded.
 */
export async function deleteServiceInstancesInSpace(tx: Db, spaceGuid: string, actor: ActionContext['actor']): Promise<void> {
  const space = await tx.selectFrom('spaces').select('organization_guid').where('guid', '=', spaceGuid).executeTakeFirst()
  if (!space) return
  const ctx: ActionContext = { db: tx, actor }
  const instances = await tx.selectFrom('service_instances').selectAll().where('space_guid', '=', spaceGuid).orderBy('created_at').execute()
  for (const si of instances) {
    const bindings = await tx.selectFrom('service_bindings').selectAll().where('service_instance_guid', '=', si.guid).orderBy('created_at').execute()
    for (const b of bindings) {
      const app = await tx.selectFrom('apps').select('space_guid').where('guid', '=', b.app_guid).executeTakeFirstOrThrow()
      await deleteBindingInTx(tx, ctx, b, app.space_guid, space.organization_guid)
    }
    await tx.deleteFrom('service_instances').where('guid', '=', si.guid).execute()
    await recordUpsiEvent(tx, ctx, SERVICE_EVENT_TYPES.userProvidedDelete, si, space.organization_guid, {})
  }
}

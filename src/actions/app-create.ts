import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { AppRow, SpaceRow } from '../store/schema.ts'
import { isUniqueViolation, type Db } from '../store/store.ts'
import { redactAppRequest } from '../audit/redaction.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

export const DEFAULT_STACK = 'cflinuxfs4'
export const PROCESS_DEFAULTS = { memoryInMb: 1024, diskInMb: 1024, logRateLimit: -1 } as const

export interface AppCreateMessage {
  readonly name: string
  readonly environmentVariables?: Record<string, string>
  readonly buildpacks?: readonly string[]
  readonly stack?: string
  readonly metadata?: MetadataPatch
}

/** The values of a new process of `type` with CF's defaults (`web` shares the app's guid, as in CC). */
export function defaultProcess(appGuid: string, type: string, now: Date) {
  return {
    guid: type === 'web' ? appGuid : newGuid(),
    app_guid: appGuid,
    type,
    command: null,
    instances: type === 'web' ? 1 : 0,
    memory_in_mb: PROCESS_DEFAULTS.memoryInMb,
    disk_in_mb: PROCESS_DEFAULTS.diskInMb,
    log_rate_limit_in_bytes_per_second: PROCESS_DEFAULTS.logRateLimit,
    health_check: JSON.stringify(type === 'web' ? { type: 'port', data: {} } : { type: 'process', data: {} }),
    created_at: now,
    updated_at: now,
    labels: '{}',
    annotations: '{}',
  }
}

/** A `web` process and a `task` template, as an app gets from its droplet's process types in CF. */
export async function insertDefaultProcesses(tx: Db, appGuid: string, now: Date): Promise<void> {
  for (const type of ['web', 'task']) {
    await tx
      .insertInto('processes')
      .values(defaultProcess(appGuid, type, now))
      .onConflict((oc) => oc.columns(['app_guid', 'type']).doNothing())
      .execute()
  }
}

/** Inserts the app row, its processes and `audit.app.create` in the caller's transaction. */
export async function insertApp(
  tx: Db,
  ctx: ActionContext,
  space: SpaceRow,
  msg: AppCreateMessage,
  request: Record<string, unknown>,
): Promise<AppRow> {
  const now = new Date()
  const row: AppRow = {
    guid: newGuid(),
    name: msg.name,
    space_guid: space.guid,
    state: 'STOPPED',
    lifecycle: { type: 'buildpack', data: { buildpacks: [...(msg.buildpacks ?? [])], stack: msg.stack ?? DEFAULT_STACK } },
    current_droplet_guid: null,
    environment_variables: msg.environmentVariables ?? {},
    max_task_sequence_id: 0,
    enable_ssh: true,
    created_at: now,
    updated_at: now,
    ...applyMetadata({ labels: {}, annotations: {} }, msg.metadata),
  }
  await tx
    .insertInto('apps')
    .values({
      ...row,
      lifecycle: JSON.stringify(row.lifecycle),
      environment_variables: JSON.stringify(row.environment_variables),
      labels: JSON.stringify(row.labels),
      annotations: JSON.stringify(row.annotations),
    })
    .execute()
  await insertDefaultProcesses(tx, row.guid, now)
  await recordAppEvent(tx, row, space.organization_guid, ctx.actor, APP_EVENT_TYPES.create, { request: redactAppRequest(request) })
  return row
}

export function duplicateAppName(name: string) {
  return unprocessable(`App with the name '${name}' already exists.`)
}

export async function createApp(
  ctx: ActionContext,
  space: SpaceRow,
  msg: AppCreateMessage,
  request: Record<string, unknown>,
): Promise<AppRow> {
  try {
    return await ctx.db.transaction().execute((tx) => insertApp(tx, ctx, space, msg, request))
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateAppName(msg.name)
    throw err
  }
}

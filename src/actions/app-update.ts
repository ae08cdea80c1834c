import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { AppRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import { redactAppRequest } from '../audit/redaction.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { duplicateAppName } from './app-create.ts'

export interface AppUpdateMessage {
  readonly name?: string
  readonly buildpacks?: readonly string[]
  readonly stack?: string
  readonly metadata?: MetadataPatch
}

async function saveApp(ctx: ActionContext, target: AppWithSpace, changes: Partial<AppRow>, type: string, metadata: Record<string, unknown>) {
  const { app, space } = target
  const updated: AppRow = { ...app, ...changes, updated_at: new Date() }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('apps')
        .set({
          name: updated.name,
          state: updated.state,
          lifecycle: JSON.stringify(updated.lifecycle),
          environment_variables: JSON.stringify(updated.environment_variables),
          labels: JSON.stringify(updated.labels),
          annotations: JSON.stringify(updated.annotations),
          updated_at: updated.updated_at,
        })
        .where('guid', '=', app.guid)
        .execute()
      await recordAppEvent(tx, updated, space.organization_guid, ctx.actor, type, metadata)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateAppName(updated.name)
    throw err
  }
  return updated
}

export function updateApp(ctx: ActionContext, target: AppWithSpace, msg: AppUpdateMessage, request: Record<string, unknown>) {
  const { app } = target
  const lifecycle =
    msg.buildpacks || msg.stack
      ? { type: 'buildpack', data: { buildpacks: [...(msg.buildpacks ?? app.lifecycle.data.buildpacks)], stack: msg.stack ?? app.lifecycle.data.stack } }
      : app.lifecycle
  return saveApp(ctx, target, { name: msg.name ?? app.name, lifecycle, ...applyMetadata(app, msg.metadata) }, APP_EVENT_TYPES.update, {
    request: redactAppRequest(request),
  })
}

/** `PATCH …/environment_variables`: null removes a key; CC records it as an app update with the values hidden. */
export function patchEnvironment(ctx: ActionContext, target: AppWithSpace, vars: Record<string, string | null>) {
  const env = { ...target.app.environment_variables }
  for (const [k, v] of Object.entries(vars)) {
    if (v === null) delete env[k]
    else env[k] = v
  }
  return saveApp(ctx, target, { environment_variables: env }, APP_EVENT_TYPES.update, {
    request: redactAppRequest({ environment_variables: vars }),
  })
}

export async function setAppState(ctx: ActionContext, target: AppWithSpace, state: 'STARTED' | 'STOPPED') {
  if (state === 'STARTED' && !target.app.current_droplet_guid) throw unprocessable('Assign a droplet before starting this app.')
  return saveApp(ctx, target, { state }, state === 'STARTED' ? APP_EVENT_TYPES.start : APP_EVENT_TYPES.stop, {})
}

import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { redactProcessUpdateRequest } from '../audit/redaction.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { ProcessRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'

export interface ProcessUpdateMessage {
  /** null resets to the droplet's detected command. */
  readonly command?: string | null
  readonly health_check?: { readonly type: string; readonly data?: Record<string, unknown> }
  readonly metadata?: MetadataPatch
}

/**
 * `PATCH /v3/processes/:guid` and `/v3/apps/:guid/processes/:type`: command, health check and
 * metadata, with `audit.app.process.update` (command hidden) in the same transaction.
 */
export async function updateProcess(
  ctx: ActionContext,
  target: AppWithSpace,
  process: ProcessRow,
  msg: ProcessUpdateMessage,
  request: Record<string, unknown>,
): Promise<ProcessRow> {
  const meta = applyMetadata({ labels: process.labels, annotations: process.annotations }, msg.metadata)
  return ctx.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('processes')
      .set({
        command: msg.command === undefined ? process.command : msg.command,
        health_check: JSON.stringify(msg.health_check ? { type: msg.health_check.type, data: msg.health_check.data ?? {} } : process.health_check),
        labels: JSON.stringify(meta.labels),
        annotations: JSON.stringify(meta.annotations),
        updated_at: new Date(),
      })
      .where('guid', '=', process.guid)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordAppEvent(tx, target.app, target.space.organization_guid, ctx.actor, APP_EVENT_TYPES.processUpdate, {
      process_guid: process.guid,
      process_type: process.type,
      request: redactProcessUpdateRequest(request),
    })
    return row
  })
}

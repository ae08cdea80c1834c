import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { ProcessRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'

export interface ProcessScaleMessage {
  readonly instances?: number
  readonly memory_in_mb?: number
  readonly disk_in_mb?: number
  readonly log_rate_limit_in_bytes_per_second?: number
}

/**
 * `POST /v3/processes/:guid/actions/scale` and `/v3/apps/:guid/processes/:type/actions/scale`:
 * the new sizes (kept; tasks inherit memory and disk from their template process) and
 * `audit.app.process.scale` with the request as sent, in one transaction.
 */
export async function scaleProcess(ctx: ActionContext, target: AppWithSpace, process: ProcessRow, msg: ProcessScaleMessage): Promise<ProcessRow> {
  return ctx.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('processes')
      .set({
        instances: msg.instances ?? process.instances,
        memory_in_mb: msg.memory_in_mb ?? process.memory_in_mb,
        disk_in_mb: msg.disk_in_mb ?? process.disk_in_mb,
        log_rate_limit_in_bytes_per_second: msg.log_rate_limit_in_bytes_per_second ?? process.log_rate_limit_in_bytes_per_second,
        updated_at: new Date(),
      })
      .where('guid', '=', process.guid)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordAppEvent(tx, target.app, target.space.organization_guid, ctx.actor, APP_EVENT_TYPES.processScale, {
      process_guid: process.guid,
      process_type: process.type,
      request: { ...msg },
    })
    return row
  })
}

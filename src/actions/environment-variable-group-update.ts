import { recordPlatformEvent } from './events/platform.ts'
import { PLATFORM_EVENT_TYPES } from '../audit/event-types.ts'
import { environmentVariableGroupEventMetadata } from '../audit/redaction.ts'
import type { EnvironmentVariableGroupRow } from '../store/schema.ts'
import type { ActionContext } from './context.ts'

/**
 * `PATCH /v3/environment_variable_groups/:name` (admin): sets the given keys, removes those sent
 * as null. The event names the keys only; values can be secrets.
 */
export async function updateEnvironmentVariableGroup(
  ctx: ActionContext,
  name: 'running' | 'staging',
  patch: Readonly<Record<string, string | null>>,
): Promise<EnvironmentVariableGroupRow> {
  return ctx.db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('environment_variable_groups').selectAll().where('name', '=', name).forUpdate().executeTakeFirstOrThrow()
    const next: Record<string, string> = { ...current.var }
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete next[k]
      else next[k] = v
    }
    const row = await tx
      .updateTable('environment_variable_groups')
      .set({ var: JSON.stringify(next), updated_at: new Date() })
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirstOrThrow()
    const actee = { guid: current.guid, type: 'environment_variable_group', name } as const
    await recordPlatformEvent(tx, ctx.actor, actee, PLATFORM_EVENT_TYPES.environmentVariableGroupUpdate, environmentVariableGroupEventMetadata(patch))
    return row
  })
}

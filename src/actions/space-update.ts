import { recordSpaceEvent } from './events/space.ts'
import { EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { SpaceRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'

export interface SpaceUpdateMessage {
  readonly name?: string
  readonly metadata?: MetadataPatch
}

export async function updateSpace(
  ctx: ActionContext,
  space: SpaceRow,
  msg: SpaceUpdateMessage,
  request: Record<string, unknown>,
): Promise<SpaceRow> {
  const updated: SpaceRow = { ...space, name: msg.name ?? space.name, updated_at: new Date(), ...applyMetadata(space, msg.metadata) }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('spaces')
        .set({
          name: updated.name,
          updated_at: updated.updated_at,
          labels: JSON.stringify(updated.labels),
          annotations: JSON.stringify(updated.annotations),
        })
        .where('guid', '=', space.guid)
        .execute()
      await recordSpaceEvent(tx, ctx.actor, { ...space, name: updated.name }, EVENT_TYPES.spaceUpdate, { request })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable('Name must be unique per organization')
    throw err
  }
  return updated
}

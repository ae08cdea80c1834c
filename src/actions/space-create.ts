import { recordSpaceEvent } from './events/space.ts'
import { EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { SpaceRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

export interface SpaceCreateMessage {
  readonly name: string
  readonly organizationGuid: string
  readonly metadata?: MetadataPatch
}

export async function createSpace(
  ctx: ActionContext,
  msg: SpaceCreateMessage,
  request: Record<string, unknown>,
): Promise<SpaceRow> {
  const now = new Date()
  const row: SpaceRow = {
    guid: newGuid(),
    name: msg.name,
    organization_guid: msg.organizationGuid,
    allow_ssh: true,
    quota_guid: null,
    created_at: now,
    updated_at: now,
    ...applyMetadata({ labels: {}, annotations: {} }, msg.metadata),
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('spaces')
        .values({ ...row, labels: JSON.stringify(row.labels), annotations: JSON.stringify(row.annotations) })
        .execute()
      await recordSpaceEvent(tx, ctx.actor, row, EVENT_TYPES.spaceCreate, { request })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable('Name must be unique per organization')
    throw err
  }
  return row
}

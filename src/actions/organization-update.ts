import { recordOrganizationEvent } from './events/organization.ts'
import { EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { OrganizationRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'

export interface OrganizationUpdateMessage {
  readonly name?: string
  readonly suspended?: boolean
  readonly metadata?: MetadataPatch
}

export async function updateOrganization(
  ctx: ActionContext,
  org: OrganizationRow,
  msg: OrganizationUpdateMessage,
  request: Record<string, unknown>,
): Promise<OrganizationRow> {
  const meta = applyMetadata(org, msg.metadata)
  const updated: OrganizationRow = {
    ...org,
    name: msg.name ?? org.name,
    suspended: msg.suspended ?? org.suspended,
    updated_at: new Date(),
    ...meta,
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('organizations')
        .set({
          name: updated.name,
          suspended: updated.suspended,
          updated_at: updated.updated_at,
          labels: JSON.stringify(updated.labels),
          annotations: JSON.stringify(updated.annotations),
        })
        .where('guid', '=', org.guid)
        .execute()
      await recordOrganizationEvent(tx, ctx.actor, { guid: org.guid, name: updated.name }, EVENT_TYPES.organizationUpdate, { request })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(`Organization name '${msg.name}' is already taken.`)
    throw err
  }
  return updated
}

import { recordEvent } from '../audit/ledger.ts'
import { EVENT_TYPES } from '../audit/event-types.ts'
import { unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { OrganizationRow } from '../store/schema.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

export interface OrganizationCreateMessage {
  readonly name: string
  readonly suspended?: boolean
  readonly metadata?: MetadataPatch
}

export async function createOrganization(
  ctx: ActionContext,
  msg: OrganizationCreateMessage,
  request: Record<string, unknown>,
): Promise<OrganizationRow> {
  const now = new Date()
  const meta = applyMetadata({ labels: {}, annotations: {} }, msg.metadata)
  const row: OrganizationRow = {
    guid: newGuid(),
    name: msg.name,
    suspended: msg.suspended ?? false,
    quota_guid: null,
    created_at: now,
    updated_at: now,
    ...meta,
  }
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('organizations')
        .values({ ...row, labels: JSON.stringify(row.labels), annotations: JSON.stringify(row.annotations) })
        .execute()
      await recordEvent(tx, {
        type: EVENT_TYPES.organizationCreate,
        actor: ctx.actor,
        actee: { guid: row.guid, type: 'organization', name: row.name },
        metadata: { request },
        organizationGuid: row.guid,
      })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(`Organization '${msg.name}' already exists.`)
    throw err
  }
  return row
}

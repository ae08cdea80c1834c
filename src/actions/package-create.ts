import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import type { AppWithSpace } from '../queries/apps.ts'
import type { PackageRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

export const PACKAGE_STATES = { awaitingUpload: 'AWAITING_UPLOAD', ready: 'READY', failed: 'FAILED' } as const

/** `POST /v3/packages` (type bits): an empty package awaiting its upload, and `audit.app.package.create`. */
export async function createPackage(
  ctx: ActionContext,
  owner: AppWithSpace,
  msg: { readonly metadata?: MetadataPatch },
  request: Record<string, unknown>,
): Promise<PackageRow> {
  const now = new Date()
  const row: PackageRow = {
    guid: newGuid(),
    app_guid: owner.app.guid,
    type: 'bits',
    state: PACKAGE_STATES.awaitingUpload,
    blob_guid: null,
    sha256: null,
    created_at: now,
    updated_at: now,
    ...applyMetadata({ labels: {}, annotations: {} }, msg.metadata),
  }
  await ctx.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('packages')
      .values({ ...row, labels: JSON.stringify(row.labels), annotations: JSON.stringify(row.annotations) })
      .execute()
    // CC's PackageEventRepository: the request as sent (the message's audit hash).
    await recordAppEvent(tx, owner.app, owner.space.organization_guid, ctx.actor, APP_EVENT_TYPES.packageCreate, {
      package_guid: row.guid,
      request,
    })
  })
  return row
}

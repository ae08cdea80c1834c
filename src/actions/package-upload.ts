import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { insertBlobFromFile } from '../bits/blobs.ts'
import { zipTooLarge } from '../bits/errors.ts'
import type { BitsLimits } from '../bits/limits.ts'
import { scanZipFile } from '../bits/zip.ts'
import { apiError } from '../errors/api-error.ts'
import type { PackageInApp } from '../queries/packages.ts'
import type { PackageRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { PACKAGE_STATES } from './package-create.ts'

export const bitsAlreadyUploaded = () => apiError('PackageBitsAlreadyUploaded')

/**
 * `POST /v3/packages/:guid/upload`: the zip is checked completely (every entry inflated, see
 * src/bits/zip.ts) before anything is written; then, in one transaction under the package's row
 * lock, the bits become a blob, the package READY, and `audit.app.package.upload` is recorded.
 * A rejected zip leaves the package AWAITING_UPLOAD with no blob, so the client may retry. The
 * zip is a spooled file (src/bits/upload-form.ts), read from disk a chunk at a time throughout.
 */
export async function uploadPackageBits(
  ctx: ActionContext,
  target: PackageInApp,
  zip: { readonly path: string; readonly size: number },
  limits: BitsLimits,
): Promise<PackageRow> {
  if (target.pkg.state !== PACKAGE_STATES.awaitingUpload) throw bitsAlreadyUploaded()
  if (zip.size > limits.maxPackageBytes) throw zipTooLarge(limits.maxPackageBytes)
  await scanZipFile(zip.path, limits)
  return ctx.db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('packages').selectAll().where('guid', '=', target.pkg.guid).forUpdate().executeTakeFirst()
    if (!current || current.state !== PACKAGE_STATES.awaitingUpload) throw bitsAlreadyUploaded()
    const blob = await insertBlobFromFile(tx, zip.path)
    const updated = await tx
      .updateTable('packages')
      .set({ state: PACKAGE_STATES.ready, blob_guid: blob.guid, sha256: blob.sha256, updated_at: new Date() })
      .where('guid', '=', current.guid)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordAppEvent(tx, target.app, target.space.organization_guid, ctx.actor, APP_EVENT_TYPES.packageUpload, {
      package_guid: current.guid,
    })
    return updated
  })
}

import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { BlobReader, findBlob } from '../bits/blobs.ts'
import { DEFAULT_PROCESS_TYPES, parseProcfile } from '../bits/procfile.ts'
import { readTopLevelFile } from '../bits/zip.ts'
import { apiError, unprocessable } from '../errors/api-error.ts'
import { applyMetadata, type MetadataPatch } from '../messages/metadata.ts'
import { DEFAULT_STAGING, type BuildDetails, type BuildLifecycle } from '../queries/builds.ts'
import type { PackageInApp } from '../queries/packages.ts'
import type { BuildRow, DropletRow } from '../store/schema.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'
import { PACKAGE_STATES } from './package-create.ts'

const MAX_PROCFILE_BYTES = 64 * 1024

export interface BuildCreateMessage {
  readonly lifecycle?: { readonly type?: string; readonly data?: { readonly buildpacks?: readonly string[]; readonly stack?: string } }
  readonly staging_memory_in_mb?: number
  readonly staging_disk_in_mb?: number
  readonly staging_log_rate_limit_bytes_per_second?: number
  readonly metadata?: MetadataPatch
}

/** The droplet's process types: the package's Procfile, or `web` and `task`. Reads only the zip's directory and the Procfile. */
async function processTypesOf(ctx: ActionContext, blobGuid: string): Promise<Record<string, string>> {
  const blob = await findBlob(ctx.db, blobGuid)
  if (!blob) throw new Error(`blob ${blobGuid} not found`)
  const procfile = await readTopLevelFile({ reader: new BlobReader(ctx.db, blobGuid), size: Number(blob.size) }, 'Procfile', MAX_PROCFILE_BYTES)
  return (procfile !== undefined && parseProcfile(procfile)) || { ...DEFAULT_PROCESS_TYPES }
}

/**
 * `POST /v3/builds`. Staging is immediate and runs no buildpack: the package's files become the
 * droplet (the same blob), the build is STAGED at once, and the events CC writes over a whole
 * staging are written together: `build.create`, `droplet.create`, `build.staged`.
 */
export async function createBuild(
  ctx: ActionContext,
  source: PackageInApp,
  msg: BuildCreateMessage,
): Promise<{ build: BuildRow; droplet: DropletRow; details: BuildDetails }> {
  const { pkg, app, space } = source
  if (pkg.state !== PACKAGE_STATES.ready || !pkg.blob_guid) throw apiError('BadRequest', 'Cannot stage package whose state is not ready.')
  if (msg.lifecycle?.type !== undefined && msg.lifecycle.type !== app.lifecycle.type) {
    throw unprocessable(`Lifecycle type cannot be changed from '${app.lifecycle.type}' to '${msg.lifecycle.type}'`)
  }
  const lifecycle: BuildLifecycle = {
    type: app.lifecycle.type,
    data: {
      buildpacks: [...(msg.lifecycle?.data?.buildpacks ?? app.lifecycle.data.buildpacks)],
      stack: msg.lifecycle?.data?.stack ?? app.lifecycle.data.stack,
    },
  }
  const details: BuildDetails = {
    createdBy: { guid: ctx.actor.guid, name: ctx.actor.username, email: ctx.actor.name },
    lifecycle,
    staging: {
      memory_in_mb: msg.staging_memory_in_mb ?? DEFAULT_STAGING.memory_in_mb,
      disk_in_mb: msg.staging_disk_in_mb ?? DEFAULT_STAGING.disk_in_mb,
      log_rate_limit_bytes_per_second: msg.staging_log_rate_limit_bytes_per_second ?? DEFAULT_STAGING.log_rate_limit_bytes_per_second,
    },
  }
  const processTypes = await processTypesOf(ctx, pkg.blob_guid)
  const now = new Date()
  const droplet: DropletRow = {
    guid: newGuid(),
    app_guid: app.guid,
    package_guid: pkg.guid,
    state: 'STAGED',
    blob_guid: pkg.blob_guid,
    sha256: pkg.sha256,
    process_types: processTypes,
    execution_metadata: '',
    created_at: now,
    updated_at: now,
    labels: {},
    annotations: {},
  }
  const build: BuildRow = {
    guid: newGuid(),
    app_guid: app.guid,
    package_guid: pkg.guid,
    droplet_guid: droplet.guid,
    state: 'STAGED',
    error: null,
    created_by: { ...details.createdBy, lifecycle, staging: details.staging },
    created_at: now,
    updated_at: now,
    ...applyMetadata({ labels: {}, annotations: {} }, msg.metadata),
  }
  await ctx.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('droplets')
      .values({ ...droplet, process_types: JSON.stringify(droplet.process_types), labels: '{}', annotations: '{}' })
      .execute()
    await tx
      .insertInto('builds')
      .values({
        ...build,
        created_by: JSON.stringify(build.created_by),
        labels: JSON.stringify(build.labels),
        annotations: JSON.stringify(build.annotations),
      })
      .execute()
    const org = space.organization_guid
    await recordAppEvent(tx, app, org, ctx.actor, APP_EVENT_TYPES.buildCreate, { build_guid: build.guid, package_guid: pkg.guid })
    await recordAppEvent(tx, app, org, ctx.actor, APP_EVENT_TYPES.dropletCreate, { droplet_guid: droplet.guid, package_guid: pkg.guid })
    await recordAppEvent(tx, app, org, ctx.actor, APP_EVENT_TYPES.buildStaged, {
      build_guid: build.guid,
      package_guid: pkg.guid,
      droplet_guid: droplet.guid,
      buildpacks: lifecycle.data.buildpacks.map((name) => ({ name, buildpack_name: null, version: null })),
    })
  })
  return { build, droplet, details }
}

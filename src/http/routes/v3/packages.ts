import { z } from 'zod'
import { createPackage } from '../../../actions/package-create.ts'
import { uploadPackageBits } from '../../../actions/package-upload.ts'
import { recordPackageDownload } from '../../../actions/events/app.ts'
import { blobStream, findBlob } from '../../../bits/blobs.ts'
import { zipTooLarge } from '../../../bits/errors.ts'
import type { BitsLimits } from '../../../bits/limits.ts'
import { isMultipartBody } from '../../../bits/upload-form.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema } from '../../../messages/metadata.ts'
import { findApp } from '../../../queries/apps.ts'
import { listPackages } from '../../../queries/packages.ts'
import { presentPackage } from '../../../presenters/v3/package.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { visibleApp } from '../visible.ts'
import { ok, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext, commonList, requestOf } from './common.ts'
import { visiblePackage as visiblePackageOf } from '../visible.ts'


const listSchema = listQuery({
  filters: ['guids', 'states', 'types', 'app_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
})
const appListSchema = listQuery({ filters: ['guids', 'states', 'types'], orderBy: ['created_at', 'updated_at'], labels: true })

const createSchema = z
  .object({
    type: z.enum(['bits', 'docker'], { error: "Type must be one of 'bits, docker'" }),
    relationships: z.object(
      { app: z.object({ data: z.object({ guid: z.string({ error: 'App guid must be a string' }) }) }, { error: "Relationships 'app' is not an object" }) },
      { error: "Relationships 'relationships' is not an object" },
    ),
    data: z.record(z.string(), z.unknown()).optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()

/**
 * The upload form as /openapi.json states it, narrower than uploadOf: the file `bits` (required:
 * "either resources or bits", and resources must be empty), `resources` only as an empty list. That
 * `bits` is a zip CC can read is not something a schema can say; nor is it stated as an
 * `application/zip` part (an Encoding Object): schemathesis cannot serialize one and skips the operation.
 */
const uploadDocumented = z
  .object({
    bits: z.string().meta({ contentMediaType: 'application/octet-stream', description: "A zip of the app's files" }),
    resources: z.literal('[]').optional(),
  })
  .strict()

export interface PackageRouteDeps {
  readonly db: Db
  readonly limits: BitsLimits
}

/** Reads the upload form: `resources` (JSON, must be empty: nothing is ever matched) and the file `bits`. */
function uploadOf(body: unknown) {
  const form = isMultipartBody(body) ? body : undefined
  let resources: unknown[] = []
  const text = form?.fields.resources
  if (text !== undefined && text.trim() !== '') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw unprocessable('Resources must be valid JSON.')
    }
    if (!Array.isArray(parsed)) throw unprocessable('Resources must be an array.')
    resources = parsed
  }
  const bits = form?.files.bits
  if (!bits && resources.length === 0) throw unprocessable('Upload must include either resources or bits')
  if (resources.length > 0) {
    // POST /v3/resource_matches never matches, so a client never needs to send any.
    throw unprocessable('Resources cannot be reused: cf-ledger keeps no resource cache. Upload every file in bits.')
  }
  return bits!
}

export function packageRoutes(deps: PackageRouteDeps): Route[] {
  const { db } = deps

  const visiblePackage = (ctx: AuthedContext) => visiblePackageOf(db, ctx)

  return [
    route({
      method: 'POST',
      url: '/v3/packages',
      summary: 'Create a bits package for an app (space developer)',
      tag: 'Packages',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body
        const owner = await findApp(db, b.relationships.app.data.guid)
        if (!owner || !ctx.perms.canReadSpace(owner.space.guid, owner.space.organization_guid)) {
          throw unprocessable('App is invalid. Ensure it exists and you have access to it.')
        }
        if (!ctx.perms.canWriteToSpace(owner.space.guid)) throw notAuthorized()
        if (b.type === 'docker') throw unprocessable('Cannot create Docker package for a buildpack app.')
        if (b.data && Object.keys(b.data).length > 0) throw unprocessable('Data must be empty if provided for bits packages')
        const pkg = await createPackage(actionContext(db, ctx), owner, { metadata: b.metadata }, requestOf(ctx.body))
        return ok(presentPackage(pkg, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'GET',
      url: '/v3/packages/:guid',
      summary: 'Get a package',
      tag: 'Packages',
      auth: 'read',
      async handler(ctx) {
        return ok(presentPackage((await visiblePackage(ctx)).pkg, ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/packages',
      summary: 'List packages',
      tag: 'Packages',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listPackages(
          db,
          ctx.perms,
          {
            guids: q.guids,
            states: q.states,
            types: q.types,
            appGuids: q.app_guids,
            spaceGuids: q.space_guids,
            organizationGuids: q.organization_guids,
            labels: c.labels,
            createdAts: c.createdAts,
            updatedAts: c.updatedAts,
          },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((p) => presentPackage(p, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/packages',
      summary: "List an app's packages",
      tag: 'Packages',
      auth: 'read',
      query: appListSchema,
      async handler(ctx) {
        const owner = await visibleApp(db, ctx)
        const q = ctx.query
        const c = commonList(q)
        const page = await listPackages(
          db,
          ctx.perms,
          { guids: q.guids, states: q.states, types: q.types, appGuids: [owner.app.guid], labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((p) => presentPackage(p, ctx.baseUrl))))
      },
    }),
    route({
      method: 'POST',
      url: '/v3/packages/:guid/upload',
      summary: 'Upload package bits (multipart: resources, bits); READY at once (space developer)',
      tag: 'Packages',
      auth: 'write',
      documentedBody: uploadDocumented,
      bodyType: 'multipart/form-data',
      async handler(ctx) {
        const bits = uploadOf(ctx.body)
        const target = await visiblePackage(ctx)
        if (!ctx.perms.canWriteToSpace(target.space.guid)) throw notAuthorized()
        if (target.pkg.type !== 'bits') throw unprocessable('Package type must be bits.')
        if (bits.truncated) throw zipTooLarge(deps.limits.maxPackageBytes)
        const pkg = await uploadPackageBits(actionContext(db, ctx), target, bits, deps.limits)
        return ok(presentPackage(pkg, ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/packages/:guid/download',
      summary: "Download a package's bits (a zip; those who may read the space's secrets)",
      tag: 'Packages',
      auth: 'read',
      async handler(ctx) {
        const target = await visiblePackage(ctx)
        if (!ctx.perms.canReadSecretsInSpace(target.space.guid)) throw notAuthorized()
        if (target.pkg.type !== 'bits') throw unprocessable('Package type must be bits.')
        if (target.pkg.state !== 'READY' || !target.pkg.blob_guid) throw unprocessable('Package has no bits to download.')
        const blob = await findBlob(db, target.pkg.blob_guid)
        if (!blob) throw unprocessable('Package has no bits to download.')
        await recordPackageDownload(actionContext(db, ctx), target.app, target.space.organization_guid, target.pkg.guid)
        return {
          status: 200,
          body: blobStream(db, blob.guid),
          headers: { 'content-type': 'application/zip', 'content-length': String(blob.size) },
        }
      },
    }),
  ]
}

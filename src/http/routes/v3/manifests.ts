import { applyManifest } from '../../../actions/manifest-apply.ts'
import { diffManifest } from '../../../actions/manifest-diff.ts'
import { apiError, notAuthorized, notFound } from '../../../errors/api-error.ts'
import { parseManifest } from '../../../messages/manifest.ts'
import { manifestDocument } from '../../../messages/manifest-document.ts'
import { findSpace } from '../../../queries/spaces.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext } from './common.ts'

const YAML_TYPES = ['application/x-yaml', 'text/yaml']

/** CC's order: YAML content type (400), space visible (404), space developer (403), then the manifest. */
async function writableSpace(db: Db, ctx: AuthedContext) {
  const type = String(ctx.request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (!YAML_TYPES.includes(type)) throw apiError('BadRequest', 'Content-Type must be yaml')
  const space = await findSpace(db, ctx.params.guid!)
  if (!space || !ctx.perms.canReadSpace(space.guid, space.organization_guid)) throw notFound('Space')
  if (!ctx.perms.canWriteToSpace(space.guid)) throw notAuthorized()
  return space
}

const manifestText = (body: unknown) => (typeof body === 'string' ? body : '')

export function manifestRoutes(deps: { readonly db: Db }): Route[] {
  const { db } = deps
  return [
    route({
      method: 'POST',
      url: '/v3/spaces/:guid/actions/apply_manifest',
      summary: 'Apply a manifest (application/x-yaml): creates or updates apps; 202 + a job already COMPLETE',
      tag: 'Manifests',
      auth: 'write',
      bodyType: 'application/x-yaml',
      documentedBody: manifestDocument,
      async handler(ctx) {
        const space = await writableSpace(db, ctx)
        const manifest = parseManifest(manifestText(ctx.body))
        const job = await applyManifest(actionContext(db, ctx), space, manifest)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/spaces/:guid/manifest_diff',
      summary: "Diff a manifest (application/x-yaml) against the space's apps",
      tag: 'Manifests',
      auth: 'write',
      bodyType: 'application/x-yaml',
      documentedBody: manifestDocument,
      async handler(ctx) {
        const space = await writableSpace(db, ctx)
        const manifest = parseManifest(manifestText(ctx.body))
        return ok({ diff: await diffManifest(db, space, manifest) }, 201)
      },
    }),
  ]
}

// App and space features (CC's AppFeaturesController, SpaceFeaturesController, ssh_enabled). The
// switches are kept, but cf-ledger has no SSH proxy: SSH is disabled globally, which
// `GET /v3/apps/:guid/ssh_enabled` says, as CC does when allow_app_ssh_access is off.
import { z } from 'zod'
import { setAppSsh, setSpaceSsh } from '../../../actions/ssh-features.ts'
import { notAuthorized, notFound } from '../../../errors/api-error.ts'
import type { AppRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { findOrganization } from '../../../queries/organizations.ts'
import { ok, type Route, route } from '../../route.ts'
import { actionContext, requireActiveOrg } from './common.ts'
import { requireSpaceDeveloper } from './apps.ts'
import { visibleApp, visibleSpace } from '../visible.ts'

const APP_FEATURES = ['ssh', 'revisions', 'service-binding-k8s', 'file-based-vcap-services'] as const
const updateSchema = z.object({ enabled: z.boolean({ error: 'Enabled must be a boolean' }) }).strict()

const APP_FEATURE_DESCRIPTIONS: Record<(typeof APP_FEATURES)[number], string> = {
  ssh: 'Enable SSHing into the app.',
  revisions: 'Enable versioning of an application',
  'service-binding-k8s': 'Enable k8s service bindings for the app',
  'file-based-vcap-services': 'Enable file-based VCAP service bindings for the app',
}

function presentAppFeature(name: (typeof APP_FEATURES)[number], app: AppRow) {
  return { name, description: APP_FEATURE_DESCRIPTIONS[name], enabled: name === 'ssh' ? app.enable_ssh : false }
}

export function featureRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  const feature = (name: string | undefined) => {
    if (!APP_FEATURES.includes(name as (typeof APP_FEATURES)[number])) throw notFound('Feature')
    return name as (typeof APP_FEATURES)[number]
  }
  const presentSpaceSsh = (enabled: boolean) => ({ name: 'ssh', description: 'Enable SSHing into apps in the space.', enabled })
  return [
    route({
      method: 'GET',
      url: '/v3/apps/:guid/features',
      summary: "An app's features",
      tag: 'App Features',
      auth: 'read',
      async handler(ctx) {
        const { app } = await visibleApp(db, ctx)
        const resources = APP_FEATURES.map((n) => presentAppFeature(n, app))
        return ok({ resources, pagination: { total_results: resources.length, total_pages: 1, first: { href: `${ctx.baseUrl}/v3/apps/${app.guid}/features` }, last: { href: `${ctx.baseUrl}/v3/apps/${app.guid}/features` }, next: null, previous: null } })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/features/:name',
      summary: "An app feature (ssh is kept; the others are off)",
      tag: 'App Features',
      auth: 'read',
      async handler(ctx) {
        const { app } = await visibleApp(db, ctx)
        return ok(presentAppFeature(feature(ctx.params.name), app))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/apps/:guid/features/:name',
      summary: 'Enable or disable an app feature (ssh only)',
      tag: 'App Features',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const target = await visibleApp(db, ctx)
        const name = feature(ctx.params.name)
        requireSpaceDeveloper(ctx, target)
        if (name !== 'ssh') throw notFound('Feature')
        const app = await setAppSsh(actionContext(db, ctx), target, ctx.body.enabled)
        return ok(presentAppFeature(name, app))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/ssh_enabled',
      summary: 'Whether SSH into the app is possible (never: cf-ledger has no SSH proxy)',
      tag: 'App Features',
      auth: 'read',
      async handler(ctx) {
        await visibleApp(db, ctx)
        return ok({ enabled: false, reason: 'Disabled globally' })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/spaces/:guid/features',
      summary: "A space's features (ssh)",
      tag: 'Space Features',
      auth: 'read',
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        return ok({ resources: [presentSpaceSsh(space.allow_ssh)] })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/spaces/:guid/features/:name',
      summary: "A space feature (ssh)",
      tag: 'Space Features',
      auth: 'read',
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        if (ctx.params.name !== 'ssh') throw notFound('Feature')
        return ok(presentSpaceSsh(space.allow_ssh))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/spaces/:guid/features/:name',
      summary: 'Allow or disallow SSH in a space (space and org managers)',
      tag: 'Space Features',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        if (ctx.params.name !== 'ssh') throw notFound('Feature')
        if (!ctx.perms.canManageSpace(space.guid, space.organization_guid)) throw notAuthorized()
        const org = (await findOrganization(db, space.organization_guid))!
        requireActiveOrg(ctx.perms, org)
        const row = await setSpaceSsh(actionContext(db, ctx), space, ctx.body.enabled)
        return ok(presentSpaceSsh(row.allow_ssh))
      },
    }),
  ]
}

import { z } from 'zod'
import { createApp } from '../../../actions/app-create.ts'
import { requestAppDelete } from '../../../actions/app-delete.ts'
import { APP_EVENT_TYPES } from '../../../audit/event-types.ts'
import { patchEnvironment, setAppState, updateApp } from '../../../actions/app-update.ts'
import { recordAppEvent } from '../../../actions/events/app.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { includePattern, listQuery } from '../../../messages/list-query.ts'
import { metadataSchema, nameSchema } from '../../../messages/metadata.ts'
import { listApps, processesOfApp, type AppWithSpace } from '../../../queries/apps.ts'
import { findSpace, spacesByGuids } from '../../../queries/spaces.ts'
import { findOrganization, organizationsByGuids } from '../../../queries/organizations.ts'
import { requireFeature } from '../../../queries/feature-flags.ts'
import { findEnvironmentVariableGroup } from '../../../queries/platform.ts'
import { appBindingsWithInstances } from '../../../queries/service-instances.ts'
import { PRIVATE_DATA_HIDDEN } from '../../../audit/redaction.ts'
import { presentVcapServices } from '../../../presenters/system-env.ts'
import { notRunWarning, presentApp } from '../../../presenters/v3/app.ts'
import { presentAppManifest } from '../../../presenters/v3/app-manifest.ts'
import { presentOrganization, presentSpace } from '../../../presenters/v3/organization.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { visibleApp } from '../visible.ts'
import { actionContext, commonList, requestOf } from './common.ts'

const listSchema = listQuery({
  filters: ['names', 'guids', 'space_guids', 'organization_guids', 'stacks'],
  orderBy: ['created_at', 'updated_at', 'name', 'state'],
  labels: true,
  include: ['space', 'space.organization'],
  extra: { lifecycle_type: z.string().optional() },
})
const showSchema = z
  .object({
    include: z
      .string()
      .transform((x) => x.split(','))
      .refine((xs) => xs.every((x) => x === 'space' || x === 'space.organization'), { message: "Invalid included resource: valid values are 'space', 'space.organization'" })
      .meta({ pattern: includePattern(['space', 'space.organization']) })
      .optional(),
  })
  .strict()
const envVars = z.record(z.string(), z.string({ error: 'Environment variable values must be strings' }))
const lifecycle = z
  .object({ type: z.literal('buildpack'), data: z.object({ buildpacks: z.array(z.string()).optional(), stack: z.string().optional() }).strict().optional() })
  .strict()
const createSchema = z
  .object({
    name: nameSchema,
    relationships: z.object({ space: z.object({ data: z.object({ guid: z.string() }) }) }),
    environment_variables: envVars.optional(),
    lifecycle: lifecycle.optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()
const updateSchema = z.object({ name: nameSchema.optional(), lifecycle: lifecycle.optional(), metadata: metadataSchema.optional() }).strict()
const envPatchSchema = z.object({ var: z.record(z.string(), z.string().nullable()) }).strict()

export interface AppRouteDeps {
  readonly db: Db
  readonly jobs: JobRunner
}

export function requireSpaceDeveloper(ctx: AuthedContext, target: AppWithSpace): void {
  if (!ctx.perms.canWriteToSpace(target.space.guid)) throw notAuthorized()
}

/** CC's can_read_app_environment_variables?: secrets readers and space supporters. */
function canReadAppEnvironment(ctx: AuthedContext, target: AppWithSpace): boolean {
  return ctx.perms.canReadSecretsInSpace(target.space.guid) || ctx.perms.hasSpaceRole(target.space.guid, 'space_supporter')
}

export function appRoutes(deps: AppRouteDeps): Route[] {
  const { db } = deps
  /** `include=space` and `include=space.organization` (which includes the spaces too, as CC). */
  async function includedOf(spaceGuids: readonly string[], include: readonly string[], baseUrl: string) {
    const spaces = await spacesByGuids(db, spaceGuids)
    const out: Record<string, unknown[]> = { spaces: spaces.map((s) => presentSpace(s, baseUrl)) }
    if (include.includes('space.organization')) {
      const orgs = await organizationsByGuids(db, spaces.map((s) => s.organization_guid))
      out.organizations = orgs.map((o) => presentOrganization(o, baseUrl))
    }
    return out
  }
  const envLinks = (ctx: AuthedContext, guid: string) => ({
    self: { href: `${ctx.baseUrl}/v3/apps/${guid}/environment_variables` },
    app: { href: `${ctx.baseUrl}/v3/apps/${guid}` },
  })
  return [
    route({
      method: 'GET',
      url: '/v3/apps',
      summary: 'List apps',
      tag: 'Apps',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listApps(
          db,
          ctx.perms,
          { names: q.names, guids: q.guids, spaceGuids: q.space_guids, organizationGuids: q.organization_guids, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        const extra = q.include ? { included: await includedOf(page.rows.map((a) => a.space_guid), q.include, ctx.baseUrl) } : {}
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((a) => presentApp(a, ctx.baseUrl)), extra))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid',
      summary: 'Get an app',
      tag: 'Apps',
      auth: 'read',
      query: showSchema,
      async handler(ctx) {
        const { app } = await visibleApp(db, ctx)
        const include = ctx.query.include
        return ok({ ...presentApp(app, ctx.baseUrl), ...(include ? { included: await includedOf([app.space_guid], include, ctx.baseUrl) } : {}) })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/permissions',
      summary: 'What the caller may read of an app',
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        const { space } = await visibleApp(db, ctx)
        return ok({ read_basic_data: true, read_sensitive_data: ctx.perms.canReadSecretsInSpace(space.guid) })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/manifest',
      summary: "The app as a manifest (YAML; space developer, admin, admin read-only)",
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        const { app, space } = await visibleApp(db, ctx)
        if (!ctx.perms.canReadSecretsInSpace(space.guid)) throw notAuthorized()
        const [processes, bindings] = await Promise.all([processesOfApp(db, app.guid), appBindingsWithInstances(db, app.guid)])
        return { status: 200, body: presentAppManifest(app, processes, bindings.map((b) => b.instance_name)), headers: { 'content-type': 'application/x-yaml' } }
      },
    }),
    route({
      method: 'POST',
      url: '/v3/apps',
      summary: 'Create an app (space developer)',
      tag: 'Apps',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body
        const space = await findSpace(db, b.relationships.space.data.guid)
        if (!space || !ctx.perms.canReadSpace(space.guid, space.organization_guid)) {
          throw unprocessable('Invalid space. Ensure that the space exists and you have access to it.')
        }
        if (!ctx.perms.canWriteToSpace(space.guid)) throw notAuthorized()
        const app = await createApp(
          actionContext(db, ctx),
          space,
          { name: b.name, environmentVariables: b.environment_variables, buildpacks: b.lifecycle?.data?.buildpacks, stack: b.lifecycle?.data?.stack, metadata: b.metadata },
          requestOf(ctx.body),
        )
        return ok(presentApp(app, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/apps/:guid',
      summary: 'Update an app',
      tag: 'Apps',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const target = await visibleApp(db, ctx)
        requireSpaceDeveloper(ctx, target)
        const b = ctx.body
        const app = await updateApp(
          actionContext(db, ctx),
          target,
          { name: b.name, buildpacks: b.lifecycle?.data?.buildpacks, stack: b.lifecycle?.data?.stack, metadata: b.metadata },
          requestOf(ctx.body),
        )
        return ok(presentApp(app, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/apps/:guid',
      summary: 'Delete an app; its running tasks are cancelled (202 + job)',
      tag: 'Apps',
      auth: 'write',
      async handler(ctx) {
        const target = await visibleApp(db, ctx)
        requireSpaceDeveloper(ctx, target)
        const job = await requestAppDelete(actionContext(db, ctx), target)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
    ...(['start', 'stop', 'restart'] as const).map(
      (action): Route =>
        route({
          method: 'POST',
          url: `/v3/apps/:guid/actions/${action}`,
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} an app (long-running processes are not run; docs/apps.md)`,
          tag: 'Apps',
          auth: 'write',
          async handler(ctx) {
            const target = await visibleApp(db, ctx)
            requireSpaceDeveloper(ctx, target)
            const app = await setAppState(actionContext(db, ctx), target, action === 'stop' ? 'STOPPED' : 'STARTED')
            return { status: 200, body: presentApp(app, ctx.baseUrl), headers: action === 'stop' ? undefined : notRunWarning(app.name) }
          },
        }),
    ),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/environment_variables',
      summary: "Get an app's environment variables (space developer and supporter, admin, admin read-only)",
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        await requireFeature(db, 'env_var_visibility')
        const target = await visibleApp(db, ctx)
        if (!canReadAppEnvironment(ctx, target)) throw notAuthorized()
        await requireFeature(db, 'space_developer_env_var_visibility', ctx.perms)
        await recordAppEvent(db, target.app, target.space.organization_guid, actionContext(db, ctx).actor, APP_EVENT_TYPES.environmentVariablesShow, {})
        return ok({ var: target.app.environment_variables, links: envLinks(ctx, target.app.guid) })
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/apps/:guid/environment_variables',
      summary: "Set or remove (null) an app's environment variables",
      tag: 'Apps',
      auth: 'write',
      body: envPatchSchema,
      async handler(ctx) {
        const target = await visibleApp(db, ctx)
        requireSpaceDeveloper(ctx, target)
        const app = await patchEnvironment(actionContext(db, ctx), target, ctx.body.var)
        return ok({ var: app.environment_variables, links: envLinks(ctx, app.guid) })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/env',
      summary: "An app's full environment as a task sees it (VCAP_SERVICES: space developer, admin, admin read-only)",
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        await requireFeature(db, 'env_var_visibility')
        const target = await visibleApp(db, ctx)
        if (!canReadAppEnvironment(ctx, target)) throw notAuthorized()
        const showSecrets = ctx.perms.canReadSecretsInSpace(target.space.guid)
        await requireFeature(db, 'space_developer_env_var_visibility', ctx.perms)
        const { app, space } = target
        const org = (await findOrganization(db, space.organization_guid))!
        const [running, staging, bindings] = await Promise.all([
          findEnvironmentVariableGroup(db, 'running'),
          findEnvironmentVariableGroup(db, 'staging'),
          appBindingsWithInstances(db, app.guid),
        ])
        await recordAppEvent(db, app, space.organization_guid, actionContext(db, ctx).actor, APP_EVENT_TYPES.environmentShow, {})
        return ok({
          staging_env_json: staging?.var ?? {},
          running_env_json: running?.var ?? {},
          environment_variables: app.environment_variables,
          system_env_json: showSecrets ? { VCAP_SERVICES: presentVcapServices(bindings) } : { redacted_message: PRIVATE_DATA_HIDDEN },
          application_env_json: {
            VCAP_APPLICATION: {
              cf_api: ctx.baseUrl,
              limits: { fds: 16384 },
              application_name: app.name,
              application_uris: [],
              name: app.name,
              space_name: space.name,
              space_id: space.guid,
              organization_id: space.organization_guid,
              organization_name: org.name,
              uris: [],
              users: null,
              application_id: app.guid,
            },
          },
        })
      },
    }),
  ]
}

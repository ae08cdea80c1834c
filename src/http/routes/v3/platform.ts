// Platform-wide resources cf lists on day one: feature flags (real, settable by admins), the one
// stack, buildpack and shared domain (fixed: src/platform/fixed.ts), environment variable groups
// (real), and what cf-ledger has none of: isolation segments, security groups, service offerings
// and plans. Lists of nothing are real lists (paging, filters validated); writes to them get the
// error CC gives when the referenced thing does not exist.
import { z } from 'zod'
import { updateEnvironmentVariableGroup } from '../../../actions/environment-variable-group-update.ts'
import { updateFeatureFlag } from '../../../actions/feature-flag-update.ts'
import type { Principal } from '../../../auth/principal.ts'
import { apiError, notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import { listQuery, pagingOf, type Paging } from '../../../messages/list-query.ts'
import { findFeatureFlag, listFeatureFlags, featureEnabled } from '../../../queries/feature-flags.ts'
import { findEnvironmentVariableGroup, platformSince } from '../../../queries/platform.ts'
import { BUILDPACK, SHARED_DOMAIN, STACK } from '../../../platform/fixed.ts'
import { presentFeatureFlag } from '../../../presenters/v3/feature-flag.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentBuildpack, presentDomain, presentEnvironmentVariableGroup, presentStack } from '../../../presenters/v3/platform.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type AuthedContext, type Input, type Route, route } from '../../route.ts'
import { actionContext, commonList, emptyListRoute, type CommonList } from './common.ts'
import { visibleOrg, visibleSpace } from '../visible.ts'

const flagListSchema = listQuery({ filters: [], orderBy: ['name'] })
const flagUpdateSchema = z
  .object({
    enabled: z.boolean({ error: 'Enabled must be a boolean' }).optional(),
    custom_error_message: z
      .string({ error: 'Custom error message must be a string' })
      .min(1, 'Custom error message is too short (minimum is 1 character)')
      .max(250, 'Custom error message is too long (maximum is 250 characters)')
      .nullable()
      .optional(),
  })
  .strict()
const stackListSchema = listQuery({ filters: ['names'], orderBy: ['created_at', 'updated_at', 'name'], labels: true, extra: { default: z.enum(['true', 'false']).optional() } })
const buildpackListSchema = listQuery({ filters: ['names', 'stacks'], orderBy: ['created_at', 'updated_at', 'position'], labels: true, extra: { lifecycle: z.string().optional() } })
const domainListSchema = listQuery({ filters: ['names', 'guids', 'organization_guids'], orderBy: ['created_at', 'updated_at', 'name'], labels: true })
const isolationSegmentListSchema = listQuery({ filters: ['names', 'guids', 'organization_guids'], orderBy: ['created_at', 'updated_at', 'name'], labels: true })
const securityGroupListSchema = listQuery({
  filters: ['names', 'guids', 'running_space_guids', 'staging_space_guids'],
  orderBy: ['created_at', 'updated_at', 'name'],
  extra: { globally_enabled_running: z.enum(['true', 'false']).optional(), globally_enabled_staging: z.enum(['true', 'false']).optional() },
})
const spaceSecurityGroupListSchema = listQuery({ filters: ['names', 'guids'], orderBy: ['created_at', 'updated_at', 'name'] })
const fieldsKeys = ['service_offering.service_broker', 'service_broker', 'space.organization'].map((k) => [`fields[${k}]`, z.string().optional()] as const)
const planListSchema = listQuery({
  filters: [
    'names',
    'broker_catalog_ids',
    'space_guids',
    'organization_guids',
    'service_broker_guids',
    'service_broker_names',
    'service_offering_guids',
    'service_offering_names',
    'service_instance_guids',
  ],
  orderBy: ['created_at', 'updated_at', 'name'],
  labels: true,
  include: ['service_offering', 'space.organization'],
  extra: { available: z.enum(['true', 'false']).optional(), ...Object.fromEntries(fieldsKeys) },
})
const offeringListSchema = listQuery({
  filters: ['names', 'space_guids', 'organization_guids', 'service_broker_guids', 'service_broker_names'],
  orderBy: ['created_at', 'updated_at', 'name'],
  labels: true,
  extra: { available: z.enum(['true', 'false']).optional(), ...Object.fromEntries(fieldsKeys) },
})
const brokerListSchema = listQuery({ filters: ['names', 'space_guids'], orderBy: ['created_at', 'updated_at', 'name'], labels: true })
const envGroupPatchSchema = z.object({ var: z.record(z.string(), z.string({ error: 'Environment variable values must be strings' }).nullable()) }).strict()
const relationshipPatchSchema = z.object({ data: z.object({ guid: z.string() }).strict().nullable() }).strict()

/** One page of an in-memory list (the fixed resources). */
function pageOf<T>(items: readonly T[], paging: Paging): T[] {
  return items.slice((paging.page - 1) * paging.perPage, paging.page * paging.perPage)
}

const matches = (filter: readonly string[] | undefined, value: string) => !filter || filter.includes(value)

export function platformRoutes(deps: { db: Db; authenticate(token: string): Promise<Principal | undefined> }): Route[] {
  const { db } = deps

  /** `GET …/:guid` of a resource kind cf-ledger has none of. */
  const missing = (url: string, what: string, tag: string): Route =>
    route({
      method: 'GET',
      url,
      summary: `${what} (none exist)`,
      tag,
      auth: 'read',
      async handler() {
        throw notFound(what)
      },
    })
  /** Creating one: admins get 422 (the feature is not offered here), everyone else 403, as CC's permission check comes first. */
  const notOffered = (url: string, what: string, tag: string, why: string): Route =>
    route({
      method: 'POST',
      url,
      summary: `Create ${what} (not offered: ${why})`,
      tag,
      auth: 'write',
      async handler(ctx) {
        if (!ctx.perms.isAdmin) throw notAuthorized()
        throw unprocessable(`cf-ledger has no ${why}.`)
      },
    })

  /**
   * The marketplace is empty. CC lets anyone without a token read it unless
   * hide_marketplace_from_unauthenticated_users is on; a token that is sent must be valid.
   */
  const marketplace = (url: string, query: z.ZodType<Record<string, unknown>>, tag: string): Route =>
    route({
      method: 'GET',
      url,
      summary: `${tag} (none: cf-ledger has no service brokers; unauthenticated reads follow hide_marketplace_from_unauthenticated_users)`,
      tag,
      auth: 'none',
      query,
      async handler(ctx) {
        const header = ctx.request.headers.authorization
        if (typeof header === 'string' && header.trim() !== '') {
          const token = /^bearer\s+(.+)$/i.exec(header.trim())?.[1]
          if (!token || !(await deps.authenticate(token))) throw apiError('InvalidAuthToken')
        } else if (await featureEnabled(db, 'hide_marketplace_from_unauthenticated_users')) {
          throw apiError('NotAuthenticated')
        }
        return ok(presentList(ctx, commonList(ctx.query).paging, 0, [], url.endsWith('service_plans') ? { included: { service_offerings: [] } } : {}))
      },
    })

  async function envGroup(ctx: AuthedContext) {
    const group = ctx.params.name === 'running' || ctx.params.name === 'staging' ? await findEnvironmentVariableGroup(db, ctx.params.name) : undefined
    if (!group) throw notFound('Environment variable group')
    return group
  }

  /**
   * The list and the get of one fixed resource (the stack, the buildpack, the shared domain): the
   * list holds it when `hit` says the filters match it, the get knows only its guid.
   */
  function fixed<S extends z.ZodType<Record<string, unknown>>>(spec: {
    url: string
    what: string
    tag: string
    listSummary: string
    guid: string
    query: S
    hit: (q: Input<S>, c: CommonList) => boolean
    present: (since: Date, baseUrl: string) => unknown
  }): Route[] {
    return [
      route({
        method: 'GET',
        url: spec.url,
        summary: spec.listSummary,
        tag: spec.tag,
        auth: 'read',
        query: spec.query,
        async handler(ctx) {
          const c = commonList(ctx.query)
          const all = spec.hit(ctx.query, c) && !c.labels?.length ? [spec.present(await platformSince(db), ctx.baseUrl)] : []
          return ok(presentList(ctx, c.paging, all.length, pageOf(all, c.paging)))
        },
      }),
      route({
        method: 'GET',
        url: `${spec.url}/:guid`,
        summary: `Get a ${spec.what.toLowerCase()}`,
        tag: spec.tag,
        auth: 'read',
        async handler(ctx) {
          if (ctx.params.guid !== spec.guid) throw notFound(spec.what)
          return ok(spec.present(await platformSince(db), ctx.baseUrl))
        },
      }),
    ]
  }

  return [
    route({
      method: 'GET',
      url: '/v3/feature_flags',
      summary: 'List feature flags (CC defaults unless an admin set them)',
      tag: 'Feature Flags',
      auth: 'read',
      query: flagListSchema,
      async handler(ctx) {
        const q = ctx.query
        const paging = pagingOf(q)
        let flags = await listFeatureFlags(db)
        if (q.order_by?.direction === 'desc') flags = [...flags].sort((a, b) => b.name.localeCompare(a.name))
        else if (q.order_by) flags = [...flags].sort((a, b) => a.name.localeCompare(b.name))
        return ok(presentList(ctx, paging, flags.length, pageOf(flags, paging).map((f) => presentFeatureFlag(f, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/feature_flags/:name',
      summary: 'Get a feature flag',
      tag: 'Feature Flags',
      auth: 'read',
      async handler(ctx) {
        const flag = await findFeatureFlag(db, ctx.params.name!)
        if (!flag) throw notFound('Feature flag')
        return ok(presentFeatureFlag(flag, ctx.baseUrl))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/feature_flags/:name',
      summary: 'Enable or disable a feature flag, or set its error message (admin)',
      tag: 'Feature Flags',
      auth: 'write',
      body: flagUpdateSchema,
      async handler(ctx) {
        const flag = await findFeatureFlag(db, ctx.params.name!)
        if (!flag) throw notFound('Feature flag')
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const updated = await updateFeatureFlag(actionContext(db, ctx), flag, ctx.body)
        return ok(presentFeatureFlag(updated, ctx.baseUrl))
      },
    }),
    ...fixed({
      url: '/v3/stacks',
      what: 'Stack',
      tag: 'Stacks',
      listSummary: 'List stacks (one: cflinuxfs4)',
      guid: STACK.guid,
      query: stackListSchema,
      hit: (q) => matches(q.names, STACK.name) && q.default !== 'false',
      present: presentStack,
    }),
    ...fixed({
      url: '/v3/buildpacks',
      what: 'Buildpack',
      tag: 'Buildpacks',
      listSummary: 'List buildpacks (one: binary_buildpack, what staging does)',
      guid: BUILDPACK.guid,
      query: buildpackListSchema,
      hit: (q) => matches(q.names, BUILDPACK.name) && matches(q.stacks, BUILDPACK.stack) && (q.lifecycle ?? 'buildpack') === 'buildpack',
      present: presentBuildpack,
    }),
    notOffered('/v3/buildpacks', 'a buildpack', 'Buildpacks', 'buildpacks to add: staging runs no buildpack'),
    ...fixed({
      url: '/v3/domains',
      what: 'Domain',
      tag: 'Domains',
      listSummary: 'List domains (one shared domain; no routes exist on it)',
      guid: SHARED_DOMAIN.guid,
      query: domainListSchema,
      hit: (q) => matches(q.names, SHARED_DOMAIN.name) && matches(q.guids, SHARED_DOMAIN.guid) && !q.organization_guids,
      present: presentDomain,
    }),
    notOffered('/v3/domains', 'a domain', 'Domains', 'private or shared domains to add: it routes no traffic'),
    route({
      method: 'GET',
      url: '/v3/organizations/:guid/domains',
      summary: "An organization's domains (the shared domain)",
      tag: 'Domains',
      auth: 'read',
      query: domainListSchema,
      async handler(ctx) {
        await visibleOrg(db, ctx)
        const q = ctx.query
        const c = commonList(q)
        const hit = matches(q.names, SHARED_DOMAIN.name) && matches(q.guids, SHARED_DOMAIN.guid) && !c.labels?.length
        const all = hit ? [presentDomain(await platformSince(db), ctx.baseUrl)] : []
        return ok(presentList(ctx, c.paging, all.length, pageOf(all, c.paging)))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/organizations/:guid/domains/default',
      summary: "An organization's default domain (the shared domain)",
      tag: 'Domains',
      auth: 'read',
      async handler(ctx) {
        await visibleOrg(db, ctx)
        return ok(presentDomain(await platformSince(db), ctx.baseUrl))
      },
    }),
    emptyListRoute('/v3/isolation_segments', 'List isolation segments (none: tasks run on this host)', 'Isolation Segments', isolationSegmentListSchema),
    missing('/v3/isolation_segments/:guid', 'Isolation segment', 'Isolation Segments'),
    notOffered('/v3/isolation_segments', 'an isolation segment', 'Isolation Segments', 'isolation segments: tasks run on this host'),
    route({
      method: 'GET',
      url: '/v3/organizations/:guid/relationships/default_isolation_segment',
      summary: "An organization's default isolation segment (none)",
      tag: 'Isolation Segments',
      auth: 'read',
      async handler(ctx) {
        const org = await visibleOrg(db, ctx)
        return ok({ data: null, links: { self: { href: `${ctx.baseUrl}/v3/organizations/${org.guid}/relationships/default_isolation_segment` } } })
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/organizations/:guid/relationships/default_isolation_segment',
      summary: "Set an organization's default isolation segment (only null: none exist)",
      tag: 'Isolation Segments',
      auth: 'write',
      body: relationshipPatchSchema,
      async handler(ctx) {
        const org = await visibleOrg(db, ctx)
        if (!ctx.perms.canManageOrg(org.guid)) throw notAuthorized()
        const data = ctx.body.data
        if (data) throw unprocessable(`Unable to assign isolation segment with guid '${data.guid}'. Ensure it has been entitled to the organization.`)
        return ok({ data: null, links: { self: { href: `${ctx.baseUrl}/v3/organizations/${org.guid}/relationships/default_isolation_segment` } } })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/spaces/:guid/relationships/isolation_segment',
      summary: "A space's isolation segment (none)",
      tag: 'Isolation Segments',
      auth: 'read',
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        return ok({ data: null, links: { self: { href: `${ctx.baseUrl}/v3/spaces/${space.guid}/relationships/isolation_segment` } } })
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/spaces/:guid/relationships/isolation_segment',
      summary: "Set a space's isolation segment (only null: none exist)",
      tag: 'Isolation Segments',
      auth: 'write',
      body: relationshipPatchSchema,
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        if (!ctx.perms.canManageOrg(space.organization_guid)) throw notAuthorized()
        const data = ctx.body.data
        if (data) {
          throw unprocessable(`Unable to assign isolation segment with guid '${data.guid}'. Ensure it has been entitled to the organization that this space belongs to.`)
        }
        return ok({ data: null, links: { self: { href: `${ctx.baseUrl}/v3/spaces/${space.guid}/relationships/isolation_segment` } } })
      },
    }),
    emptyListRoute('/v3/security_groups', 'List security groups (none: tasks get the host network or none, CF_LEDGER_TASK_NETWORK)', 'Security Groups', securityGroupListSchema),
    missing('/v3/security_groups/:guid', 'Security group', 'Security Groups'),
    notOffered('/v3/security_groups', 'a security group', 'Security Groups', 'security groups: task networking is CF_LEDGER_TASK_NETWORK'),
    ...(['running', 'staging'] as const).map(
      (lifecycle): Route =>
        route({
          method: 'GET',
          url: `/v3/spaces/:guid/${lifecycle}_security_groups`,
          summary: `A space's ${lifecycle} security groups (none)`,
          tag: 'Security Groups',
          auth: 'read',
          query: spaceSecurityGroupListSchema,
          async handler(ctx) {
            await visibleSpace(db, ctx)
            return ok(presentList(ctx, commonList(ctx.query).paging, 0, []))
          },
        }),
    ),
    route({
      method: 'GET',
      url: '/v3/environment_variable_groups/:name',
      summary: 'The running or staging environment variable group (running: added to every task)',
      tag: 'Environment Variable Groups',
      auth: 'read',
      async handler(ctx) {
        return ok(presentEnvironmentVariableGroup(await envGroup(ctx), ctx.baseUrl))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/environment_variable_groups/:name',
      summary: 'Set or remove (null) variables of an environment variable group (admin)',
      tag: 'Environment Variable Groups',
      auth: 'write',
      body: envGroupPatchSchema,
      async handler(ctx) {
        const group = await envGroup(ctx)
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const row = await updateEnvironmentVariableGroup(actionContext(db, ctx), group.name as 'running' | 'staging', ctx.body.var)
        return ok(presentEnvironmentVariableGroup(row, ctx.baseUrl))
      },
    }),
    marketplace('/v3/service_offerings', offeringListSchema, 'Service Offerings'),
    marketplace('/v3/service_plans', planListSchema, 'Service Plans'),
    missing('/v3/service_offerings/:guid', 'Service offering', 'Service Offerings'),
    missing('/v3/service_plans/:guid', 'Service plan', 'Service Plans'),
    emptyListRoute('/v3/service_brokers', 'List service brokers (none)', 'Service Brokers', brokerListSchema),
    missing('/v3/service_brokers/:guid', 'Service broker', 'Service Brokers'),
    notOffered('/v3/service_brokers', 'a service broker', 'Service Brokers', 'service brokers: only user-provided service instances exist'),
  ]
}

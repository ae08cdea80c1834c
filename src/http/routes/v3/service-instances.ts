// `/v3/service_instances` for user-provided instances: what `cf create-user-provided-service`,
// `cf update-user-provided-service`, `cf services` and `cf delete-service` use. A non-empty
// `syslog_drain_url` makes every app binding of the instance a syslog drain (docs/logs.md).
import { z } from 'zod'
import { createUserProvided, deleteUserProvided, recordCredentialsShow, updateUserProvided } from '../../../actions/service-instances.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import type { DrainPolicy } from '../../../logs/drains/policy.ts'
import { DRAIN_SCHEMES } from '../../../logs/drains/schemes.ts'
import { parseDrainUrl } from '../../../logs/drains/url.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema, nameSchema } from '../../../messages/metadata.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentServiceInstance } from '../../../presenters/v3/service-instance.ts'
import { listServiceInstances } from '../../../queries/service-instances.ts'
import { findSpace } from '../../../queries/spaces.ts'
import type { Db } from '../../../store/store.ts'
import { noContent, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { visibleServiceInstance } from '../visible.ts'
import { actionContext, commonList, requestOf } from './common.ts'

const uri = (label: string) =>
  z
    .string({ error: `${label} must be a string` })
    .refine((s) => URL.canParse(s), { message: `${label} must be a valid URI` })

/**
 * What URL.canParse accepts, as a JSON Schema pattern for /openapi.json, and much narrower: a host
 * of dot-separated letters and digits whose last label starts with a letter (so it is never read as
 * an IPv4 number, which can fail, and has no `xn--` label, whose punycode can fail), a port of up to
 * four digits, and a path of unreserved characters; no userinfo, query or fragment. Every string it
 * matches parses, special scheme or not.
 */
const uriPattern = (schemes: readonly string[]) =>
  `^(?:${schemes.map((s) => s.replace(/[.+]/g, '\\$&')).join('|')})://(?:[A-Za-z0-9]+\\.)*[A-Za-z][A-Za-z0-9]*(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~-]*)*$`
/** CC takes any URI; the document names the schemes the syslog agent drains (and not `file:`, which has no port). */
export const SYSLOG_DRAIN_URL_PATTERN = uriPattern(DRAIN_SCHEMES)
export const ROUTE_SERVICE_URL_PATTERN = uriPattern(['https'])

const syslogDrainUrl = uri('Syslog drain url').meta({ pattern: SYSLOG_DRAIN_URL_PATTERN })
const routeServiceUrl = uri('Route service url')
  .refine((s) => s.startsWith('https://'), { message: 'Route service url must be https' })
  .meta({ pattern: ROUTE_SERVICE_URL_PATTERN })
const credentials = z.record(z.string(), z.unknown(), { error: 'Credentials must be an object' })
const tags = z.array(z.string(), { error: 'Tags must be a list of strings' })

const createSchema = z
  .object({
    type: z.enum(['user-provided', 'managed'], { error: "Type must be one of 'managed', 'user-provided'" }),
    name: nameSchema,
    relationships: z.object({ space: z.object({ data: z.object({ guid: z.string() }) }) }).passthrough(),
    credentials: credentials.optional(),
    syslog_drain_url: syslogDrainUrl.optional(),
    route_service_url: routeServiceUrl.optional(),
    tags: tags.optional(),
    parameters: z.unknown().optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()

const updateSchema = z
  .object({
    name: nameSchema.optional(),
    credentials: credentials.optional(),
    syslog_drain_url: syslogDrainUrl.nullable().optional(),
    route_service_url: routeServiceUrl.nullable().optional(),
    tags: tags.optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()

const ignored = z.string().optional()
const listSchema = listQuery({
  filters: ['names', 'guids', 'space_guids', 'organization_guids', 'service_plan_guids', 'service_plan_names'],
  orderBy: ['created_at', 'updated_at', 'name'],
  labels: true,
  extra: {
    type: z.enum(['managed', 'user-provided'], { error: "Type must be one of 'managed', 'user-provided'" }).optional(),
    'fields[space]': ignored,
    'fields[space.organization]': ignored,
    'fields[service_plan]': ignored,
    'fields[service_plan.service_offering]': ignored,
    'fields[service_plan.service_offering.service_broker]': ignored,
  },
})

export interface ServiceInstanceRouteDeps {
  readonly db: Db
  readonly policy: DrainPolicy
  drainsChanged(): Promise<void>
}

export function serviceInstanceRoutes(deps: ServiceInstanceRouteDeps): Route[] {
  const { db } = deps

  const visible = (ctx: AuthedContext) => visibleServiceInstance(db, ctx)

  /** Refuses drain URLs the operator does not allow (blocked ranges, this server). */
  async function checkDrain(url: string | null | undefined): Promise<void> {
    if (!url) return
    const parsed = parseDrainUrl(url)
    if (!parsed) return // CC accepts any URI; the agent ignores schemes it does not drain
    const why = await deps.policy.refusal(parsed.host, parsed.port)
    if (why) throw unprocessable(`Syslog drain url is not allowed: ${why}`)
  }

  return [
    route({
      method: 'POST',
      url: '/v3/service_instances',
      summary: 'Create a user-provided service instance (201; space developer)',
      tag: 'Service instances',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const body = ctx.body
        const space = await findSpace(db, body.relationships.space.data.guid)
        if (!space || !ctx.perms.canReadSpace(space.guid, space.organization_guid)) {
          throw unprocessable('Invalid space. Ensure that the space exists and you have access to it.')
        }
        if (!ctx.perms.canWriteToSpace(space.guid)) throw notAuthorized()
        if (body.type === 'managed') throw unprocessable('Managed service instances are not supported by this server; use a user-provided service instance.')
        if (body.parameters !== undefined) throw unprocessable("Unknown field(s): 'parameters'")
        await checkDrain(body.syslog_drain_url)
        const si = await createUserProvided(actionContext(db, ctx), space, body, requestOf(ctx.body))
        if (si.syslog_drain_url) await deps.drainsChanged()
        return ok(presentServiceInstance(si, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_instances',
      summary: 'List service instances',
      tag: 'Service instances',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        // Only user-provided instances exist here: a plan filter or type=managed matches none.
        const none = q.type === 'managed' || !!q.service_plan_guids || !!q.service_plan_names
        const page = none
          ? { rows: [], total: 0 }
          : await listServiceInstances(
              db,
              ctx.perms,
              { names: q.names, guids: q.guids, spaceGuids: q.space_guids, organizationGuids: q.organization_guids, type: q.type, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
              c.paging,
              c.order,
            )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((si) => presentServiceInstance(si, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_instances/:guid',
      summary: 'Get a service instance',
      tag: 'Service instances',
      auth: 'read',
      async handler(ctx) {
        const { si } = await visible(ctx)
        return ok(presentServiceInstance(si, ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_instances/:guid/credentials',
      summary: "A user-provided instance's credentials (admin, admin read-only, space developer; recorded)",
      tag: 'Service instances',
      auth: 'read',
      async handler(ctx) {
        const { si, orgGuid } = await visible(ctx)
        if (!ctx.perms.canReadSecretsInSpace(si.space_guid)) throw notAuthorized()
        await recordCredentialsShow(actionContext(db, ctx), si, orgGuid)
        return ok(si.credentials ?? {})
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/service_instances/:guid',
      summary: 'Update a user-provided service instance (space developer)',
      tag: 'Service instances',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const { si, orgGuid } = await visible(ctx)
        if (!ctx.perms.canWriteToSpace(si.space_guid)) throw notAuthorized()
        const body = ctx.body
        await checkDrain(body.syslog_drain_url)
        const updated = await updateUserProvided(actionContext(db, ctx), si, orgGuid, body, requestOf(ctx.body))
        await deps.drainsChanged()
        return ok(presentServiceInstance(updated, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/service_instances/:guid',
      summary: 'Delete a user-provided service instance and its bindings (204; space developer)',
      tag: 'Service instances',
      auth: 'write',
      async handler(ctx) {
        const { si, orgGuid } = await visible(ctx)
        if (!ctx.perms.canWriteToSpace(si.space_guid)) throw notAuthorized()
        await deleteUserProvided(actionContext(db, ctx), si, orgGuid)
        await deps.drainsChanged()
        return noContent()
      },
    }),
  ]
}

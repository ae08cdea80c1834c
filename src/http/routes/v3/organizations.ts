import { z } from 'zod'
import { createOrganization } from '../../../actions/organization-create.ts'
import { updateOrganization } from '../../../actions/organization-update.ts'
import { requestOrganizationDelete } from '../../../actions/deletes.ts'
import { notAuthorized, notFound } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema, nameSchema } from '../../../messages/metadata.ts'
import { featureEnabled } from '../../../queries/feature-flags.ts'
import { findOrganization, listOrganizations, organizationUsage } from '../../../queries/organizations.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { presentOrganization } from '../../../presenters/v3/organization.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext, commonList, requestOf, requireActiveOrg } from './common.ts'

const listSchema = listQuery({ filters: ['names', 'guids'], orderBy: ['created_at', 'updated_at', 'name'], labels: true })
const createSchema = z.object({ name: nameSchema, suspended: z.boolean({ error: 'Suspended must be a boolean' }).optional(), metadata: metadataSchema.optional() }).strict()
const updateSchema = z.object({ name: nameSchema.optional(), suspended: z.boolean({ error: 'Suspended must be a boolean' }).optional(), metadata: metadataSchema.optional() }).strict()

export function organizationRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps
  async function visibleOrg(ctx: AuthedContext) {
    const org = await findOrganization(db, ctx.params.guid!)
    if (!org || !ctx.perms.canReadOrg(org.guid)) throw notFound('Organization')
    return org
  }
  return [
    route({
      method: 'GET',
      url: '/v3/organizations',
      summary: 'List organizations',
      tag: 'Organizations',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listOrganizations(
          db,
          ctx.perms.readableOrgs(),
          { names: q.names, guids: q.guids, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((o) => presentOrganization(o, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/organizations/:guid',
      summary: 'Get an organization',
      tag: 'Organizations',
      auth: 'read',
      async handler(ctx) {
        return ok(presentOrganization(await visibleOrg(ctx), ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/organizations/:guid/usage_summary',
      summary: "An organization's usage: running tasks' memory and counts (no long-running instances, routes or keys exist)",
      tag: 'Organizations',
      auth: 'read',
      async handler(ctx) {
        const org = await visibleOrg(ctx)
        const usage = await organizationUsage(db, org.guid)
        return ok({
          usage_summary: {
            started_instances: 0,
            memory_in_mb: usage.runningTaskMemoryInMb,
            routes: 0,
            service_instances: usage.serviceInstances,
            reserved_ports: 0,
            domains: 0,
            per_app_tasks: usage.runningTasks,
            service_keys: 0,
          },
          links: {
            self: { href: `${ctx.baseUrl}/v3/organizations/${org.guid}/usage_summary` },
            organization: { href: `${ctx.baseUrl}/v3/organizations/${org.guid}` },
          },
        })
      },
    }),
    route({
      method: 'POST',
      url: '/v3/organizations',
      summary: 'Create an organization (admin, or anyone when user_org_creation is enabled)',
      tag: 'Organizations',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const admin = ctx.perms.isAdmin
        if (!admin && !(await featureEnabled(db, 'user_org_creation'))) throw notAuthorized()
        if (!admin && ctx.body.suspended) throw notAuthorized()
        const actor = actionContext(db, ctx)
        const owner = admin ? undefined : { guid: actor.actor.guid, username: actor.actor.username }
        const org = await createOrganization(actor, ctx.body, requestOf(ctx.body), owner)
        return ok(presentOrganization(org, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/organizations/:guid',
      summary: 'Update an organization',
      tag: 'Organizations',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const org = await visibleOrg(ctx)
        if (!ctx.perms.canManageOrg(org.guid)) throw notAuthorized()
        requireActiveOrg(ctx.perms, org)
        const updated = await updateOrganization(actionContext(db, ctx), org, ctx.body, requestOf(ctx.body))
        return ok(presentOrganization(updated, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/organizations/:guid',
      summary: 'Delete an organization and everything in it (202 + job)',
      tag: 'Organizations',
      auth: 'write',
      async handler(ctx) {
        const org = await visibleOrg(ctx)
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const job = await requestOrganizationDelete(actionContext(db, ctx), org)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
  ]
}

import { z } from 'zod'
import { createSpace } from '../../../actions/space-create.ts'
import { updateSpace } from '../../../actions/space-update.ts'
import { requestSpaceDelete } from '../../../actions/deletes.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema, nameSchema } from '../../../messages/metadata.ts'
import { findOrganization, organizationsByGuids } from '../../../queries/organizations.ts'
import { listSpaces } from '../../../queries/spaces.ts'
import { presentOrganization, presentSpace } from '../../../presenters/v3/organization.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type Route, route } from '../../route.ts'
import { actionContext, commonList, requestOf, requireActiveOrg } from './common.ts'
import { visibleSpace } from '../visible.ts'

const listSchema = listQuery({
  filters: ['names', 'guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at', 'name'],
  labels: true,
  include: ['organization'],
})
const relationship = z.object({ data: z.object({ guid: z.string() }) })
const createSchema = z
  .object({
    name: nameSchema,
    relationships: z.object({ organization: relationship }, { error: "Relationships 'relationships' must include one or more valid relationships" }),
    metadata: metadataSchema.optional(),
  })
  .strict()
const updateSchema = z.object({ name: nameSchema.optional(), metadata: metadataSchema.optional() }).strict()
const includeSchema = z.object({ include: z.literal('organization').optional() }).strict()

export function spaceRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps
  async function includedOrgs(guids: readonly string[], baseUrl: string) {
    if (guids.length === 0) return { organizations: [] }
    const orgs = await organizationsByGuids(db, guids)
    return { organizations: orgs.map((o) => presentOrganization(o, baseUrl)) }
  }
  return [
    route({
      method: 'GET',
      url: '/v3/spaces',
      summary: 'List spaces',
      tag: 'Spaces',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listSpaces(
          db,
          ctx.perms,
          { names: q.names, guids: q.guids, organizationGuids: q.organization_guids, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        const resources = page.rows.map((s) => presentSpace(s, ctx.baseUrl))
        const extra = q.include ? { included: await includedOrgs(page.rows.map((s) => s.organization_guid), ctx.baseUrl) } : {}
        return ok(presentList(ctx, c.paging, page.total, resources, extra))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/spaces/:guid',
      summary: 'Get a space',
      tag: 'Spaces',
      auth: 'read',
      query: includeSchema,
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        const body = presentSpace(space, ctx.baseUrl)
        if (ctx.query.include) {
          return ok({ ...body, included: await includedOrgs([space.organization_guid], ctx.baseUrl) })
        }
        return ok(body)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/spaces',
      summary: 'Create a space (admin or org manager)',
      tag: 'Spaces',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body
        const orgGuid = b.relationships.organization.data.guid
        const org = await findOrganization(db, orgGuid)
        if (!org || !ctx.perms.canReadOrg(org.guid)) {
          throw unprocessable('Invalid organization. Ensure the organization exists and you have access to it.')
        }
        if (!ctx.perms.canManageOrg(org.guid)) throw notAuthorized()
        requireActiveOrg(ctx.perms, org)
        const space = await createSpace(actionContext(db, ctx), { name: b.name, organizationGuid: org.guid, metadata: b.metadata }, requestOf(ctx.body))
        return ok(presentSpace(space, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/spaces/:guid',
      summary: 'Update a space (admin, space manager or org manager)',
      tag: 'Spaces',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        if (!ctx.perms.canManageSpace(space.guid, space.organization_guid)) throw notAuthorized()
        requireActiveOrg(ctx.perms, (await findOrganization(db, space.organization_guid))!)
        const updated = await updateSpace(actionContext(db, ctx), space, ctx.body, requestOf(ctx.body))
        return ok(presentSpace(updated, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/spaces/:guid',
      summary: 'Delete a space and everything in it (202 + job; admin or org manager)',
      tag: 'Spaces',
      auth: 'write',
      async handler(ctx) {
        const space = await visibleSpace(db, ctx)
        if (!ctx.perms.canManageOrg(space.organization_guid)) throw notAuthorized()
        requireActiveOrg(ctx.perms, (await findOrganization(db, space.organization_guid))!)
        const job = await requestSpaceDelete(actionContext(db, ctx), space)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
  ]
}

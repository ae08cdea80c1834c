import { createOrganizationQuota, applyOrganizationQuota, ORG_QUOTA_APPLIED_TEXT, requestOrganizationQuotaDelete, updateOrganizationQuota } from '../../../actions/quota-organization.ts'
import {
  applySpaceQuota,
  createSpaceQuota,
  removeSpaceQuota,
  requestSpaceQuotaDelete,
  SPACE_QUOTA_APPLIED_TEXT,
  updateSpaceQuota,
} from '../../../actions/quota-space.ts'
import { apiError, notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { listQuery } from '../../../messages/list-query.ts'
import {
  parseOrganizationQuotaCreate,
  parseOrganizationQuotaUpdate,
  parseSpaceQuotaCreate,
  parseSpaceQuotaUpdate,
  parseToManyRelationship,
  type Parsed,
} from '../../../messages/quota.ts'
import {
  organizationQuotaCreateDocumented,
  organizationQuotaUpdateDocumented,
  spaceQuotaCreateDocumented,
  spaceQuotaUpdateDocumented,
  toManyRelationshipDocumented,
} from '../../../messages/quota-document.ts'
import { findOrganization } from '../../../queries/organizations.ts'
import { visibleSpaceQuota } from '../visible.ts'
import {
  findOrganizationQuota,
  listOrganizationQuotas,
  listSpaceQuotas,
  organizationsByQuota,
  quotaInUse,
  spaceQuotaVisibility,
  spacesByQuota,
} from '../../../queries/quotas.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentOrganizationQuota, presentQuotaRelationship, presentSpaceQuota } from '../../../presenters/v3/quota.ts'
import type { OrganizationQuotaRow, SpaceQuotaRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, noContent, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext, commonList, requestOf, requireActiveOrg } from './common.ts'

const orgListSchema = listQuery({ filters: ['names', 'guids', 'organization_guids'], orderBy: ['created_at', 'updated_at'] })
const spaceListSchema = listQuery({ filters: ['names', 'guids', 'organization_guids', 'space_guids'], orderBy: ['created_at', 'updated_at'] })

/**
 * The JSON body as an object. An empty body is `{}` (CC's BaseMessage of nil); anything but an
 * object is a parse error.
 */
function bodyOf(ctx: AuthedContext): Record<string, unknown> {
  const b = ctx.body
  if (b === undefined || b === null || b === '') return {}
  if (typeof b !== 'object' || Array.isArray(b)) throw apiError('MessageParseError', 'invalid request body')
  return b as Record<string, unknown>
}

/** Validates at the point of CC's check order where the message is built; 422 with every error. */
function valid<T>(r: Parsed<T>): T {
  if (!r.ok) throw unprocessable(r.errors.join(', '))
  return r.value
}

export function quotaRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps

  async function presentOrgQuotas(ctx: AuthedContext, quotas: readonly OrganizationQuotaRow[]) {
    const orgs = await organizationsByQuota(db, quotas.map((q) => q.guid), ctx.perms.readableOrgs())
    return quotas.map((q) => presentOrganizationQuota(q, orgs.get(q.guid) ?? [], ctx.baseUrl))
  }

  async function presentSpaceQuotas(ctx: AuthedContext, quotas: readonly SpaceQuotaRow[]) {
    const spaces = await spacesByQuota(db, quotas.map((q) => q.guid))
    return quotas.map((q) =>
      presentSpaceQuota(
        q,
        (spaces.get(q.guid) ?? []).filter((s) => ctx.perms.canReadSpace(s.guid, s.organization_guid)).map((s) => s.guid),
        ctx.baseUrl,
      ),
    )
  }

  async function orgQuota(ctx: AuthedContext): Promise<OrganizationQuotaRow> {
    const quota = await findOrganizationQuota(db, ctx.params.guid!)
    if (!quota) throw notFound('Organization quota')
    return quota
  }

  /** CC's space-quota preamble: readable (else 404), then writable by admin or org manager (403), then an active org. */
  async function writableSpaceQuota(ctx: AuthedContext): Promise<SpaceQuotaRow> {
    const quota = await visibleSpaceQuota(db, ctx)
    if (!ctx.perms.canManageOrg(quota.organization_guid)) throw notAuthorized()
    const org = await findOrganization(db, quota.organization_guid)
    if (org) requireActiveOrg(ctx.perms, org)
    return quota
  }

  return [
    // ---- organization quotas -------------------------------------------------------------
    route({
      method: 'GET',
      url: '/v3/organization_quotas',
      summary: 'List organization quotas (all quotas; orgs shown only where readable)',
      tag: 'Organization Quotas',
      auth: 'read',
      query: orgListSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listOrganizationQuotas(
          db,
          ctx.perms.readableOrgs(),
          { names: q.names, guids: q.guids, organizationGuids: q.organization_guids, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, await presentOrgQuotas(ctx, page.rows)))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/organization_quotas/:guid',
      summary: 'Get an organization quota',
      tag: 'Organization Quotas',
      auth: 'read',
      async handler(ctx) {
        const [shown] = await presentOrgQuotas(ctx, [await orgQuota(ctx)])
        return ok(shown)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/organization_quotas',
      summary: 'Create an organization quota (admin), optionally applied to orgs',
      tag: 'Organization Quotas',
      auth: 'write',
      documentedBody: organizationQuotaCreateDocumented,
      async handler(ctx) {
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const body = bodyOf(ctx)
        const msg = valid(parseOrganizationQuotaCreate(body))
        const quota = await createOrganizationQuota(actionContext(db, ctx), msg, requestOf(body))
        const [shown] = await presentOrgQuotas(ctx, [quota])
        return ok(shown, 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/organization_quotas/:guid',
      summary: 'Update an organization quota (admin); null makes a limit unlimited',
      tag: 'Organization Quotas',
      auth: 'write',
      documentedBody: organizationQuotaUpdateDocumented,
      async handler(ctx) {
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const body = bodyOf(ctx)
        const msg = valid(parseOrganizationQuotaUpdate(body))
        const quota = await orgQuota(ctx)
        const updated = await updateOrganizationQuota(actionContext(db, ctx), quota, msg, requestOf(body))
        const [shown] = await presentOrgQuotas(ctx, [updated])
        return ok(shown)
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/organization_quotas/:guid',
      summary: 'Delete an organization quota that no org uses (admin; 202 + job)',
      tag: 'Organization Quotas',
      auth: 'write',
      async handler(ctx) {
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const quota = await orgQuota(ctx)
        if (await quotaInUse(db, 'organizations', quota.guid)) throw unprocessable(ORG_QUOTA_APPLIED_TEXT)
        const job = await requestOrganizationQuotaDelete(actionContext(db, ctx), quota)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/organization_quotas/:guid/relationships/organizations',
      summary: 'Apply an organization quota to orgs (admin)',
      tag: 'Organization Quotas',
      auth: 'write',
      documentedBody: toManyRelationshipDocumented,
      async handler(ctx) {
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const guids = valid(parseToManyRelationship(bodyOf(ctx)))
        const quota = await orgQuota(ctx)
        const all = await applyOrganizationQuota(actionContext(db, ctx), quota, guids)
        return ok(presentQuotaRelationship(`organization_quotas/${quota.guid}/relationships/organizations`, all, ctx.baseUrl))
      },
    }),

    // ---- space quotas --------------------------------------------------------------------
    route({
      method: 'GET',
      url: '/v3/space_quotas',
      summary: 'List space quotas (of managed orgs, and applied to spaces where the caller has a role)',
      tag: 'Space Quotas',
      auth: 'read',
      query: spaceListSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listSpaceQuotas(
          db,
          spaceQuotaVisibility(ctx.perms),
          {
            names: q.names,
            guids: q.guids,
            organizationGuids: q.organization_guids,
            spaceGuids: q.space_guids,
            createdAts: c.createdAts,
            updatedAts: c.updatedAts,
          },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, await presentSpaceQuotas(ctx, page.rows)))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/space_quotas/:guid',
      summary: 'Get a space quota',
      tag: 'Space Quotas',
      auth: 'read',
      async handler(ctx) {
        const [shown] = await presentSpaceQuotas(ctx, [await visibleSpaceQuota(db, ctx)])
        return ok(shown)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/space_quotas',
      summary: "Create a space quota (admin or the org's manager), optionally applied to spaces",
      tag: 'Space Quotas',
      auth: 'write',
      documentedBody: spaceQuotaCreateDocumented,
      async handler(ctx) {
        const body = bodyOf(ctx)
        const msg = valid(parseSpaceQuotaCreate(body))
        const org = msg.organizationGuid ? await findOrganization(db, msg.organizationGuid) : undefined
        if (!org) throw unprocessable(`Organization with guid '${msg.organizationGuid}' does not exist, or you do not have access to it.`)
        if (!ctx.perms.canManageOrg(org.guid)) throw notAuthorized()
        requireActiveOrg(ctx.perms, org)
        const quota = await createSpaceQuota(actionContext(db, ctx), org, msg, requestOf(body))
        const [shown] = await presentSpaceQuotas(ctx, [quota])
        return ok(shown, 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/space_quotas/:guid',
      summary: 'Update a space quota; null makes a limit unlimited',
      tag: 'Space Quotas',
      auth: 'write',
      documentedBody: spaceQuotaUpdateDocumented,
      async handler(ctx) {
        const quota = await writableSpaceQuota(ctx)
        const body = bodyOf(ctx)
        const msg = valid(parseSpaceQuotaUpdate(body))
        const updated = await updateSpaceQuota(actionContext(db, ctx), quota, msg, requestOf(body))
        const [shown] = await presentSpaceQuotas(ctx, [updated])
        return ok(shown)
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/space_quotas/:guid',
      summary: 'Delete a space quota that no space uses (202 + job)',
      tag: 'Space Quotas',
      auth: 'write',
      async handler(ctx) {
        const quota = await writableSpaceQuota(ctx)
        if (await quotaInUse(db, 'spaces', quota.guid)) throw unprocessable(SPACE_QUOTA_APPLIED_TEXT)
        const job = await requestSpaceQuotaDelete(actionContext(db, ctx), quota)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/space_quotas/:guid/relationships/spaces',
      summary: "Apply a space quota to spaces of its org",
      tag: 'Space Quotas',
      auth: 'write',
      documentedBody: toManyRelationshipDocumented,
      async handler(ctx) {
        const quota = await writableSpaceQuota(ctx)
        const guids = valid(parseToManyRelationship(bodyOf(ctx)))
        const all = await applySpaceQuota(actionContext(db, ctx), quota, guids, (s) => ctx.perms.canReadSpace(s.guid, s.organization_guid))
        return ok(presentQuotaRelationship(`space_quotas/${quota.guid}/relationships/spaces`, all, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/space_quotas/:guid/relationships/spaces/:space_guid',
      summary: 'Remove a space quota from a space',
      tag: 'Space Quotas',
      auth: 'write',
      async handler(ctx) {
        const quota = await writableSpaceQuota(ctx)
        await removeSpaceQuota(actionContext(db, ctx), quota, ctx.params.space_guid!)
        return noContent()
      },
    }),
  ]
}

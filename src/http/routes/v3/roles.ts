import { z } from 'zod'
import { requireFeature } from '../../../queries/feature-flags.ts'
import { createRole } from '../../../actions/role-create.ts'
import { requestRoleDelete } from '../../../actions/deletes.ts'
import { ORG_ROLE_TYPES, ROLE_TYPES, SPACE_ROLE_TYPES } from '../../../authz/permissions.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { includePattern, listQuery } from '../../../messages/list-query.ts'
import { findOrganization, organizationsByGuids } from '../../../queries/organizations.ts'
import { hasSpaceRolesInOrg, listRoles } from '../../../queries/roles.ts'
import { findSpace, spacesByGuids } from '../../../queries/spaces.ts'
import { findVisibleUser, uaaUsernameOf, uaaUsersNamed, usersByGuid } from '../../../queries/users.ts'
import { presentOrganization, presentSpace } from '../../../presenters/v3/organization.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentRole, presentUser } from '../../../presenters/v3/user.ts'
import type { RoleRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { visibleRole as visibleRoleOf } from '../visible.ts'
import { actionContext, commonList, requestOf, requireActiveOrg } from './common.ts'

const INCLUDES = ['user', 'space', 'organization'] as const
const listSchema = listQuery({
  filters: ['guids', 'types', 'user_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  include: INCLUDES,
})
const showSchema = z
  .object({
    include: z
      .string()
      .refine((s) => s.split(',').every((x) => (INCLUDES as readonly string[]).includes(x)), {
        message: "Invalid included resource: valid values are 'user', 'space', 'organization'",
      })
      .meta({ pattern: includePattern(INCLUDES) })
      .optional(),
  })
  .strict()
const ref = z.object({ data: z.object({ guid: z.string() }) })
const userRef = z.object({
  data: z
    .object({ guid: z.string().optional(), username: z.string().optional(), origin: z.string().optional() })
    .strict()
    // resolveUser's rule, for /openapi.json: a non-empty guid and neither username nor origin, or a
    // non-empty username (origin optional) and no guid. Narrower than the check, which lets an empty
    // guid stand for none and an empty username or origin go with a guid.
    .meta({
      anyOf: [
        { required: ['guid'], properties: { guid: { minLength: 1 } }, not: { anyOf: [{ required: ['username'] }, { required: ['origin'] }] } },
        { required: ['username'], properties: { username: { minLength: 1 } }, not: { required: ['guid'] } },
      ],
    }),
})
/** The role type's relationship and only that one: the handler's four checks on organization and space. */
const roleTarget = (types: readonly string[], needs: 'organization' | 'space', refuses: 'organization' | 'space') => ({
  properties: { type: { enum: types }, relationships: { required: [needs], not: { required: [refuses] } } },
})
const createSchema = z
  .object({
    type: z.enum(ROLE_TYPES, { error: `Type must be one of the allowed types ${JSON.stringify(ROLE_TYPES).replace(/,/g, ', ')}` }),
    relationships: z.object({ user: userRef, organization: ref.optional(), space: ref.optional() }).strict(),
  })
  .strict()
  .meta({ anyOf: [roleTarget(SPACE_ROLE_TYPES, 'space', 'organization'), roleTarget(ORG_ROLE_TYPES, 'organization', 'space')] })

export function roleRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps

  async function included(rows: readonly RoleRow[], include: readonly string[], baseUrl: string) {
    const out: Record<string, unknown[]> = {}
    if (include.includes('user')) {
      out.users = (await usersByGuid(db, [...new Set(rows.map((r) => r.user_guid))])).map((u) => presentUser(u, baseUrl))
    }
    if (include.includes('space')) {
      const guids = rows.map((r) => r.space_guid).filter((g): g is string => !!g)
      out.spaces = (await spacesByGuids(db, guids)).map((s) => presentSpace(s, baseUrl))
    }
    if (include.includes('organization')) {
      const guids = rows.filter((r) => !r.space_guid).map((r) => r.organization_guid!)
      out.organizations = (await organizationsByGuids(db, guids)).map((o) => presentOrganization(o, baseUrl))
    }
    return out
  }

  /** Resolves `user.data` (guid, or username + optional origin) as CC's roles controller does. */
  async function resolveUser(data: z.infer<typeof userRef>['data'], isSpaceRole: boolean, perms: AuthedContext['perms']) {
    if (data.guid) {
      if (data.username || data.origin) throw unprocessable('Username cannot be specified when identifying user by guid')
      return { guid: data.guid, username: (await uaaUsernameOf(db, data.guid)) ?? null }
    }
    if (!data.username) throw unprocessable('User must have a username or guid specified')
    // CC's lookup_user_guid_in_uaa: naming a user by username needs set_roles_by_username.
    await requireFeature(db, 'set_roles_by_username', perms)
    const matches = await uaaUsersNamed(db, data.username, data.origin)
    if (matches.length > 1) {
      const origins = matches.map((m) => m.origin).sort().join(', ')
      throw unprocessable(`Ambiguous user. User with username '${data.username}' exists in the following origins: ${origins}. Specify an origin to disambiguate.`)
    }
    if (matches.length === 0) {
      if (isSpaceRole) throw unprocessable("Users cannot be assigned roles in a space if they do not have a role in that space's organization.")
      throw unprocessable(
        data.origin
          ? `No user exists with the username '${data.username}' and origin '${data.origin}'.`
          : `No user exists with the username '${data.username}'.`,
      )
    }
    return { guid: matches[0]!.id, username: matches[0]!.username }
  }

  const visibleRole = (ctx: AuthedContext) => visibleRoleOf(db, ctx)

  return [
    route({
      method: 'GET',
      url: '/v3/roles',
      summary: 'List roles',
      tag: 'Roles',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listRoles(
          db,
          ctx.perms,
          { guids: q.guids, types: q.types, userGuids: q.user_guids, spaceGuids: q.space_guids, organizationGuids: q.organization_guids, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        const extra = q.include ? { included: await included(page.rows, q.include, ctx.baseUrl) } : {}
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((r) => presentRole(r, ctx.baseUrl)), extra))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/roles/:guid',
      summary: 'Get a role',
      tag: 'Roles',
      auth: 'read',
      query: showSchema,
      async handler(ctx) {
        const role = await visibleRole(ctx)
        const include = ctx.query.include?.split(',') ?? []
        const body = presentRole(role, ctx.baseUrl)
        return ok(include.length ? { ...body, included: await included([role], include, ctx.baseUrl) } : body)
      },
    }),
    route({
      method: 'POST',
      url: '/v3/roles',
      summary: 'Assign a role to a user',
      tag: 'Roles',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body
        const isSpaceRole = (SPACE_ROLE_TYPES as readonly string[]).includes(b.type)
        const rel = b.relationships
        if (rel.organization && rel.space) throw unprocessable('Relationships cannot specify both an organization and a space.')
        if (!rel.organization && !rel.space) throw unprocessable('Relationships must specify either a space or an organization.')
        if (isSpaceRole && rel.organization) throw unprocessable(`Organization cannot be provided with the space role type: '${b.type}'.`)
        if (!isSpaceRole && rel.space) throw unprocessable(`Space cannot be provided with the organization role type: '${b.type}'.`)
        let org, space
        if (isSpaceRole) {
          // CC checks only that the space exists, then can_update_active_space? (403).
          space = await findSpace(db, rel.space!.data.guid)
          if (!space) throw unprocessable('Invalid space. Ensure that the space exists and you have access to it.')
          if (!ctx.perms.canManageSpace(space.guid, space.organization_guid)) throw notAuthorized()
          org = (await findOrganization(db, space.organization_guid))!
        } else {
          org = await findOrganization(db, rel.organization!.data.guid)
          if (!org) throw unprocessable('Invalid organization. Ensure that the organization exists and you have access to it.')
          if (!ctx.perms.canManageOrg(org.guid)) throw notAuthorized()
        }
        requireActiveOrg(ctx.perms, org)
        const user = await resolveUser(rel.user.data, isSpaceRole, ctx.perms)
        // A space role's user must be one the caller can see (CC's readable_users_query).
        if (isSpaceRole && !(await findVisibleUser(db, ctx.perms, user.guid))) {
          throw unprocessable("Users cannot be assigned roles in a space if they do not have a role in that space's organization.")
        }
        const role = await createRole(actionContext(db, ctx), { type: b.type, user, organization: org, space }, requestOf(ctx.body))
        return ok(presentRole(role, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/roles/:guid',
      summary: 'Remove a role (202 + job)',
      tag: 'Roles',
      auth: 'write',
      async handler(ctx) {
        const role = await visibleRole(ctx)
        const allowed = role.space_guid
          ? ctx.perms.canManageSpace(role.space_guid, role.organization_guid!)
          : ctx.perms.canManageOrg(role.organization_guid!)
        if (!allowed) throw notAuthorized()
        requireActiveOrg(ctx.perms, (await findOrganization(db, role.organization_guid!))!)
        if (role.type === 'organization_user') {
          if (await hasSpaceRolesInOrg(db, role.user_guid, role.organization_guid!)) throw unprocessable('Cannot delete organization_user role while user has roles in spaces in that organization.')
        }
        const job = await requestRoleDelete(actionContext(db, ctx), role)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
  ]
}

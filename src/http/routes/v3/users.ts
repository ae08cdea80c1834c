import { z } from 'zod'
import { updateUserMetadata } from '../../../actions/metadata-update.ts'
import { createUser } from '../../../actions/user-create.ts'
import { requestUserDelete } from '../../../actions/deletes.ts'
import { notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { applyMetadata, metadataSchema } from '../../../messages/metadata.ts'
import { findOrganization } from '../../../queries/organizations.ts'
import { findSpace } from '../../../queries/spaces.ts'
import { findVisibleUser, listUsers, listUsersWithRoleIn } from '../../../queries/users.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentUser } from '../../../presenters/v3/user.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { visibleUser as visibleUserOf } from '../visible.ts'
import { actionContext, commonList } from './common.ts'

const listSchema = listQuery({ filters: ['guids', 'usernames', 'origins'], orderBy: ['created_at', 'updated_at'], labels: true })
const createSchema = z
  .object({
    guid: z.string({ error: 'Guid must be a string' }).min(1).max(200, { message: 'Guid must be between 1 and 200 characters' }).optional(),
    username: z.string().optional(),
    origin: z.string().optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()
  // The handler's rule, for /openapi.json: a guid alone, or a username with an origin other than `uaa`.
  .meta({
    anyOf: [
      { required: ['guid'], not: { anyOf: [{ required: ['username'] }, { required: ['origin'] }] } },
      { required: ['username', 'origin'], properties: { origin: { not: { const: 'uaa' } } }, not: { required: ['guid'] } },
    ],
  })
const updateSchema = z.object({ metadata: metadataSchema.optional() }).strict()

export function userRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps
  const visibleUser = (ctx: AuthedContext) => visibleUserOf(db, ctx)
  /** `/v3/organizations/:guid/users` and `/v3/spaces/:guid/users`: readers of the org or space see everyone with a role there. */
  const usersIn = (kind: 'organization' | 'space'): Route =>
    route({
    method: 'GET',
    url: kind === 'organization' ? '/v3/organizations/:guid/users' : '/v3/spaces/:guid/users',
    summary: `Users with a role in the ${kind}`,
    tag: 'Users',
    auth: 'read',
    query: listSchema,
    async handler(ctx) {
      const guid = ctx.params.guid!
      if (kind === 'organization') {
        const org = await findOrganization(db, guid)
        if (!org || !ctx.perms.canReadOrg(org.guid)) throw notFound('Organization')
      } else {
        const space = await findSpace(db, guid)
        if (!space || !ctx.perms.canReadSpace(space.guid, space.organization_guid)) throw notFound('Space')
      }
      const q = ctx.query
      const c = commonList(q)
      const page = await listUsersWithRoleIn(
        db,
        kind === 'organization' ? { organizationGuid: guid } : { spaceGuid: guid },
        { guids: q.guids, usernames: q.usernames, origins: q.origins, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
        c.paging,
        c.order,
      )
      return ok(presentList(ctx, c.paging, page.total, page.rows.map((u) => presentUser(u, ctx.baseUrl))))
    },
    })
  return [
    usersIn('organization'),
    usersIn('space'),
    route({
      method: 'GET',
      url: '/v3/users',
      summary: 'List users',
      tag: 'Users',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listUsers(
          db,
          ctx.perms,
          { guids: q.guids, usernames: q.usernames, origins: q.origins, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((u) => presentUser(u, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/users/:guid',
      summary: 'Get a user',
      tag: 'Users',
      auth: 'read',
      async handler(ctx) {
        return ok(presentUser(await visibleUser(ctx), ctx.baseUrl))
      },
    }),
    route({
      method: 'POST',
      url: '/v3/users',
      summary: 'Register a UAA user with Cloud Controller (admin)',
      tag: 'Users',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        // CC checks the caller before the message (UsersController#create).
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const b = ctx.body
        const problems: string[] = []
        if (b.guid !== undefined) {
          if (b.username !== undefined) problems.push("Username cannot be provided with 'guid'")
          if (b.origin !== undefined) problems.push("Origin cannot be provided with 'guid'")
        } else if (b.username === undefined && b.origin === undefined) {
          problems.push("Guid or 'username' and 'origin' must be provided")
        } else if (b.origin === undefined) {
          problems.push("Username can only be provided together with 'origin'")
        } else if (b.username === undefined) {
          problems.push("Origin can only be provided together with 'username'")
        } else if (b.origin === 'uaa') {
          problems.push("Origin cannot be 'uaa' when creating a user by username")
        }
        if (problems.length) throw unprocessable(problems.join(', '))
        const metadata = applyMetadata({ labels: {}, annotations: {} }, b.metadata)
        const guid =
          b.guid !== undefined
            ? await createUser(actionContext(db, ctx), { guid: b.guid }, metadata)
            : await createUser(actionContext(db, ctx), { username: b.username!, origin: b.origin! }, metadata)
        const user = await findVisibleUser(db, ctx.perms, guid)
        return ok(presentUser(user!, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/users/:guid',
      summary: "Update a user's metadata (admin)",
      tag: 'Users',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const user = await visibleUser(ctx)
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const meta = applyMetadata(user, ctx.body.metadata)
        await updateUserMetadata(db, user.guid, meta)
        return ok(presentUser((await findVisibleUser(db, ctx.perms, user.guid))!, ctx.baseUrl))
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/users/:guid',
      summary: 'Delete a user and its roles (202 + job; admin)',
      tag: 'Users',
      auth: 'write',
      async handler(ctx) {
        const user = await visibleUser(ctx)
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const job = await requestUserDelete(actionContext(db, ctx), user.guid)
        deps.jobs.start(job)
        return accepted(`${ctx.baseUrl}/v3/jobs/${job}`)
      },
    }),
  ]
}

import { z } from 'zod'
import { createUser } from '../../../actions/user-create.ts'
import { requestUserDelete } from '../../../actions/deletes.ts'
import { notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import type { JobRunner } from '../../../jobs/runner.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { applyMetadata, metadataSchema } from '../../../messages/metadata.ts'
import { findVisibleUser, listUsers } from '../../../queries/users.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentUser } from '../../../presenters/v3/user.ts'
import type { Db } from '../../../store/store.ts'
import { accepted, ok, type AuthedContext, type Route } from '../../route.ts'
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
const updateSchema = z.object({ metadata: metadataSchema.optional() }).strict()

export function userRoutes(deps: { db: Db; jobs: JobRunner }): Route[] {
  const { db } = deps
  async function visibleUser(ctx: AuthedContext) {
    const user = await findVisibleUser(db, ctx.perms, ctx.params.guid!)
    if (!user) throw notFound('User')
    return user
  }
  return [
    {
      method: 'GET',
      url: '/v3/users',
      summary: 'List users',
      tag: 'Users',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query as z.infer<typeof listSchema>
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
    },
    {
      method: 'GET',
      url: '/v3/users/:guid',
      summary: 'Get a user',
      tag: 'Users',
      auth: 'read',
      async handler(ctx) {
        return ok(presentUser(await visibleUser(ctx), ctx.baseUrl))
      },
    },
    {
      method: 'POST',
      url: '/v3/users',
      summary: 'Register a UAA user with Cloud Controller (admin)',
      tag: 'Users',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body as z.infer<typeof createSchema>
        let guid = b.guid
        if (guid && (b.username || b.origin)) throw unprocessable("Username cannot be provided with 'guid'")
        if (!guid) {
          if (!b.username || !b.origin) throw unprocessable("Guid or 'username' and 'origin' must be provided")
          if (b.origin === 'uaa') throw unprocessable("Origin cannot be 'uaa' when creating a user by username")
        }
        if (!ctx.perms.isAdmin) throw notAuthorized()
        if (!guid) {
          const existing = await db.selectFrom('uaa_users').select('id').where('username', '=', b.username!).where('origin', '=', b.origin!).executeTakeFirst()
          if (existing) throw unprocessable(`User with username '${b.username}' and origin '${b.origin}' already exists.`)
          guid = crypto.randomUUID()
          const now = new Date()
          await db.insertInto('uaa_users').values({ id: guid, username: b.username!, origin: b.origin!, email: '', given_name: '', family_name: '', password_hash: null, scopes: ['openid', 'cloud_controller.read', 'cloud_controller.write', 'uaa.user'], created_at: now, updated_at: now }).execute()
        }
        await createUser(actionContext(db, ctx), guid, applyMetadata({ labels: {}, annotations: {} }, b.metadata))
        const user = await findVisibleUser(db, ctx.perms, guid)
        return ok(presentUser(user!, ctx.baseUrl), 201)
      },
    },
    {
      method: 'PATCH',
      url: '/v3/users/:guid',
      summary: "Update a user's metadata (admin)",
      tag: 'Users',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const user = await visibleUser(ctx)
        if (!ctx.perms.isAdmin) throw notAuthorized()
        const meta = applyMetadata(user, (ctx.body as z.infer<typeof updateSchema>).metadata)
        await db
          .updateTable('users')
          .set({ labels: JSON.stringify(meta.labels), annotations: JSON.stringify(meta.annotations), updated_at: new Date() })
          .where('guid', '=', user.guid)
          .execute()
        return ok(presentUser((await findVisibleUser(db, ctx.perms, user.guid))!, ctx.baseUrl))
      },
    },
    {
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
    },
  ]
}

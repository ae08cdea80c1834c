import { z } from 'zod'
import { createBuild } from '../../../actions/build-create.ts'
import { notFound, unprocessable } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema } from '../../../messages/metadata.ts'
import { appLifecycles } from '../../../queries/apps.ts'
import { buildDetailsOf, findBuild, listBuilds } from '../../../queries/builds.ts'
import { findPackage } from '../../../queries/packages.ts'
import { presentBuild } from '../../../presenters/v3/build.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { BuildRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { visibleApp } from '../visible.ts'
import { ok, type Route, route } from '../../route.ts'
import { actionContext, commonList } from './common.ts'
import { ccInteger, MAX_DB_BIGINT } from '../../../messages/numbers.ts'

const listSchema = listQuery({ filters: ['states', 'app_guids', 'package_guids'], orderBy: ['created_at', 'updated_at'], labels: true })
const appListSchema = listQuery({ filters: ['states'], orderBy: ['created_at', 'updated_at'], labels: true })

const positiveInt = (what: string) => ccInteger(what, { min: 0, exclusiveMin: true })
const createSchema = z
  .object({
    package: z.object({ guid: z.string({ error: 'Package guid must be a string' }) }, { error: 'Package must be an object' }),
    lifecycle: z
      .object({
        type: z.string().optional(),
        data: z.object({ buildpacks: z.array(z.string()).optional(), stack: z.string().optional() }).optional(),
      })
      .optional(),
    staging_memory_in_mb: positiveInt('Staging memory in mb').optional(),
    staging_disk_in_mb: positiveInt('Staging disk in mb').optional(),
    staging_log_rate_limit_bytes_per_second: ccInteger('Staging log rate limit bytes per second', { min: -1, max: MAX_DB_BIGINT }).optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()

export function buildRoutes(deps: { readonly db: Db }): Route[] {
  const { db } = deps

  async function present(rows: readonly BuildRow[], baseUrl: string) {
    const lifecycles = await appLifecycles(db, rows.map((b) => b.app_guid))
    return rows.map((b) => presentBuild(b, buildDetailsOf(b, lifecycles.get(b.app_guid)!), baseUrl))
  }

  return [
    route({
      method: 'POST',
      url: '/v3/builds',
      summary: "Stage a package (STAGED at once: the package's files become the droplet; space developer)",
      tag: 'Builds',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const b = ctx.body
        const source = await findPackage(db, b.package.guid)
        if (!source || !ctx.perms.canReadSpace(source.space.guid, source.space.organization_guid) || !ctx.perms.canWriteToSpace(source.space.guid)) {
          throw unprocessable('Unable to use package. Ensure that the package exists and you have access to it.')
        }
        const { build, details } = await createBuild(actionContext(db, ctx), source, b)
        return ok(presentBuild(build, details, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'GET',
      url: '/v3/builds/:guid',
      summary: 'Get a build',
      tag: 'Builds',
      auth: 'read',
      async handler(ctx) {
        const found = await findBuild(db, ctx.params.guid!)
        if (!found || !ctx.perms.canReadSpace(found.space.guid, found.space.organization_guid)) throw notFound('Build')
        return ok(presentBuild(found.build, buildDetailsOf(found.build, found.app.lifecycle), ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/builds',
      summary: 'List builds',
      tag: 'Builds',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listBuilds(
          db,
          ctx.perms,
          { states: q.states, appGuids: q.app_guids, packageGuids: q.package_guids, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, await present(page.rows, ctx.baseUrl)))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/builds',
      summary: "List an app's builds",
      tag: 'Builds',
      auth: 'read',
      query: appListSchema,
      async handler(ctx) {
        const owner = await visibleApp(db, ctx)
        const q = ctx.query
        const c = commonList(q)
        const page = await listBuilds(
          db,
          ctx.perms,
          { states: q.states, appGuids: [owner.app.guid], labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, await present(page.rows, ctx.baseUrl)))
      },
    }),
  ]
}

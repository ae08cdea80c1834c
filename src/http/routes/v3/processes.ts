import { z } from 'zod'
import { scaleProcess } from '../../../actions/process-scale.ts'
import { updateProcess } from '../../../actions/process-update.ts'
import { notFound } from '../../../errors/api-error.ts'
import { listQuery, pagingOf } from '../../../messages/list-query.ts'
import { metadataSchema } from '../../../messages/metadata.ts'
import { detectedProcessTypes, type AppWithSpace } from '../../../queries/apps.ts'
import { requireFeature } from '../../../queries/feature-flags.ts'
import { findProcess, findProcessOfApp, listAppProcesses, listProcesses } from '../../../queries/processes.ts'
import { notRunWarning, presentProcess, presentProcessStats } from '../../../presenters/v3/app.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { ProcessRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { visibleApp } from '../visible.ts'
import { ok, type ApiResponse, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext, commonList, requestOf, emptyListRoute } from './common.ts'
import { requireSpaceDeveloper } from './apps.ts'
import { ccInteger, MAX_DB_BIGINT } from '../../../messages/numbers.ts'

const listSchema = listQuery({
  filters: ['guids', 'types', 'app_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
  extra: { embed: z.string().optional() },
})
/** CC's AppProcessesListMessage: `/v3/apps/:guid/processes` takes these, and 400s anything else. */
const appListSchema = listQuery({ filters: ['guids', 'types'], orderBy: ['created_at', 'updated_at'], labels: true, extra: { embed: z.string().optional() } })
const emptyListSchema = listQuery({ filters: ['app_guids', 'space_guids', 'organization_guids', 'status_values', 'states', 'guids', 'hosts', 'paths'], orderBy: ['created_at', 'updated_at'] })
const updateSchema = z
  .object({
    command: z.string().min(1, 'Command must be between 1 and 4096 characters').max(4096, 'Command must be between 1 and 4096 characters').nullable().optional(),
    health_check: z.object({ type: z.enum(['port', 'process', 'http']), data: z.record(z.string(), z.unknown()).optional() }).optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()
const scaleSchema = z
  .object({
    // CC's ProcessScaleMessage ranges.
    instances: ccInteger('Instances', { min: 0 }).optional(),
    memory_in_mb: ccInteger('Memory in mb', { min: 0, exclusiveMin: true }).optional(),
    disk_in_mb: ccInteger('Disk in mb', { min: 0, exclusiveMin: true }).optional(),
    log_rate_limit_in_bytes_per_second: ccInteger('Log rate limit in bytes per second', { min: -1, max: MAX_DB_BIGINT }).optional(),
  })
  .strict()

interface Located {
  readonly process: ProcessRow
  readonly owner: AppWithSpace
}

export function processRoutes(deps: { db: Db }): Route[] {
  const { db } = deps

  /** `/v3/processes/:guid`: a process of an app the caller can read, else 404 Process. */
  async function byGuid(ctx: AuthedContext): Promise<Located> {
    const process = await findProcess(db, ctx.params.guid!)
    if (!process) throw notFound('Process')
    const owner = await visibleApp(db, ctx, process.app_guid).catch(() => {
      throw notFound('Process')
    })
    return { process, owner }
  }
  /** `/v3/apps/:guid/processes/:type`: 404 App, then 404 Process, as CC. */
  async function byType(ctx: AuthedContext): Promise<Located> {
    const owner = await visibleApp(db, ctx)
    const process = await findProcessOfApp(db, owner.app.guid, ctx.params.type!)
    if (!process) throw notFound('Process')
    return { process, owner }
  }
  /** `show` hides the command from callers who may not read secrets (CC's processes#show); lists and writes do not. */
  const present = async (ctx: AuthedContext, { process, owner }: Located, show = false) =>
    presentProcess(
      process,
      owner.space.guid,
      ctx.baseUrl,
      (await detectedProcessTypes(db, [owner.app.guid])).get(owner.app.guid),
      !show || ctx.perms.canReadSecretsInSpace(owner.space.guid),
    )


  async function scale(ctx: AuthedContext<unknown, z.output<typeof scaleSchema>>, located: Located): Promise<ApiResponse> {
    requireSpaceDeveloper(ctx, located.owner)
    await requireFeature(db, 'app_scaling', ctx.perms)
    const msg = ctx.body
    const process = await scaleProcess(actionContext(db, ctx), located.owner, located.process, msg)
    const warn = located.owner.app.state === 'STARTED' && process.instances > 0 ? notRunWarning(located.owner.app.name) : undefined
    return { status: 202, body: await present(ctx, { process, owner: located.owner }), headers: warn }
  }
  async function update(ctx: AuthedContext<unknown, z.output<typeof updateSchema>>, located: Located) {
    requireSpaceDeveloper(ctx, located.owner)
    const process = await updateProcess(actionContext(db, ctx), located.owner, located.process, ctx.body, requestOf(ctx.body))
    return ok(await present(ctx, { process, owner: located.owner }))
  }
  const stats = ({ process, owner }: Located) => ok({ resources: presentProcessStats(process, owner.app.state) })

  return [
    route({
      method: 'GET',
      url: '/v3/apps/:guid/processes',
      summary: "List an app's processes",
      tag: 'Processes',
      auth: 'read',
      query: appListSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const { app, space } = await visibleApp(db, ctx)
        const filters = { guids: q.guids, types: q.types, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts }
        const page = await listAppProcesses(db, app.guid, filters, c.paging, c.order)
        const detected = (await detectedProcessTypes(db, [app.guid])).get(app.guid)
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((p) => presentProcess(p, space.guid, ctx.baseUrl, detected))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/processes/:type',
      summary: "Get an app's process by type",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        return ok(await present(ctx, await byType(ctx), true))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/apps/:guid/processes/:type',
      summary: "Update an app's process by type",
      tag: 'Processes',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        return update(ctx, await byType(ctx))
      },
    }),
    route({
      method: 'POST',
      url: '/v3/apps/:guid/processes/:type/actions/scale',
      summary: "Scale an app's process by type (recorded; long-running processes are not run)",
      tag: 'Processes',
      auth: 'write',
      body: scaleSchema,
      async handler(ctx) {
        return scale(ctx, await byType(ctx))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/processes/:type/stats',
      summary: "An app's process instances by type (none run: docs/apps.md)",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        return stats(await byType(ctx))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/processes',
      summary: 'List processes',
      tag: 'Processes',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const filters = {
          guids: q.guids,
          types: q.types,
          appGuids: q.app_guids,
          spaceGuids: q.space_guids,
          organizationGuids: q.organization_guids,
          labels: c.labels,
          createdAts: c.createdAts,
          updatedAts: c.updatedAts,
        }
        const page = await listProcesses(db, ctx.perms, filters, c.paging, c.order)
        const detected = await detectedProcessTypes(db, page.rows.map((p) => p.app_guid))
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((p) => presentProcess(p, p.space_guid, ctx.baseUrl, detected.get(p.app_guid)))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/processes/:guid',
      summary: 'Get a process',
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        return ok(await present(ctx, await byGuid(ctx), true))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/processes/:guid',
      summary: "Update a process's command, health check or metadata",
      tag: 'Processes',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        return update(ctx, await byGuid(ctx))
      },
    }),
    route({
      method: 'POST',
      url: '/v3/processes/:guid/actions/scale',
      summary: 'Scale a process (recorded; long-running processes are not run)',
      tag: 'Processes',
      auth: 'write',
      body: scaleSchema,
      async handler(ctx) {
        return scale(ctx, await byGuid(ctx))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/processes/:guid/stats',
      summary: "A process's instances (none run: docs/apps.md)",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        return stats(await byGuid(ctx))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/processes/:guid/sidecars',
      summary: "A process's sidecars (none)",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        await byGuid(ctx)
        return ok(presentList(ctx, pagingOf({}), 0, []))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/routes',
      summary: "An app's routes (none: cf-ledger does not route traffic)",
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        await visibleApp(db, ctx)
        return ok(presentList(ctx, pagingOf({}), 0, []))
      },
    }),
    emptyListRoute('/v3/routes', 'Routes (none: cf-ledger does not route traffic)', 'Routes', emptyListSchema),
    emptyListRoute('/v3/deployments', 'Deployments (none: long-running processes are not run)', 'Deployments', emptyListSchema),
  ]
}

import { z } from 'zod'
import { PRIVATE_DATA_HIDDEN, recordAppEvent } from '../../../actions/app-events.ts'
import { APP_EVENT_TYPES } from '../../../audit/event-types.ts'
import { notFound } from '../../../errors/api-error.ts'
import { listQuery, pagingOf } from '../../../messages/list-query.ts'
import { processesOfApp } from '../../../queries/apps.ts'
import { paginate, readableSpaceCondition } from '../../../queries/list.ts'
import { presentProcess, presentProcessStats } from '../../../presenters/v3/app.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { ProcessRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type AuthedContext, type Route } from '../../route.ts'
import { actionContext, commonList } from './common.ts'
import { requireSpaceDeveloper, visibleApp } from './apps.ts'
import { ccInteger, MAX_DB_BIGINT } from '../../../messages/numbers.ts'

const listSchema = listQuery({
  filters: ['guids', 'types', 'app_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
  extra: { embed: z.string().optional() },
})
const emptyListSchema = listQuery({ filters: ['app_guids', 'space_guids', 'organization_guids', 'status_values', 'states', 'guids', 'hosts', 'paths'], orderBy: ['created_at', 'updated_at'] })
const updateSchema = z
  .object({
    command: z.string().max(4096).nullable().optional(),
    health_check: z.object({ type: z.enum(['port', 'process', 'http']), data: z.record(z.string(), z.unknown()).optional() }).optional(),
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

export function processRoutes(deps: { db: Db }): Route[] {
  const { db } = deps

  async function visibleProcess(ctx: AuthedContext): Promise<{ process: ProcessRow; spaceGuid: string; orgGuid: string; app: Awaited<ReturnType<typeof visibleApp>> }> {
    const process = await db.selectFrom('processes').selectAll().where('guid', '=', ctx.params.guid!).executeTakeFirst()
    if (!process) throw notFound('Process')
    const app = await visibleApp(db, ctx, process.app_guid).catch(() => {
      throw notFound('Process')
    })
    return { process, spaceGuid: app.space.guid, orgGuid: app.space.organization_guid, app }
  }

  /** Lists with no resources: cf-ledger has no routes or deployments, and cf reads empty lists fine. */
  const emptyList = (url: string, summary: string, tag: string): Route => ({
    method: 'GET',
    url,
    summary,
    tag,
    auth: 'read',
    query: emptyListSchema,
    async handler(ctx) {
      const c = commonList(ctx.query as Record<string, unknown>)
      return ok(presentList(ctx, c.paging, 0, []))
    },
  })

  return [
    {
      method: 'GET',
      url: '/v3/apps/:guid/processes',
      summary: "List an app's processes",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        const { app, space } = await visibleApp(db, ctx)
        const rows = await processesOfApp(db, app.guid)
        return ok(presentList(ctx, pagingOf({ per_page: 5000 }), rows.length, rows.map((p) => presentProcess(p, space.guid, ctx.baseUrl))))
      },
    },
    {
      method: 'GET',
      url: '/v3/apps/:guid/processes/:type',
      summary: "Get an app's process by type",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        const { app, space } = await visibleApp(db, ctx)
        const p = await db.selectFrom('processes').selectAll().where('app_guid', '=', app.guid).where('type', '=', ctx.params.type!).executeTakeFirst()
        if (!p) throw notFound('Process')
        return ok(presentProcess(p, space.guid, ctx.baseUrl))
      },
    },
    {
      method: 'GET',
      url: '/v3/processes',
      summary: 'List processes',
      tag: 'Processes',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query as z.infer<typeof listSchema>
        const c = commonList(q)
        let qb = db.selectFrom('processes').innerJoin('apps', 'apps.guid', 'processes.app_guid').innerJoin('spaces', 'spaces.guid', 'apps.space_guid').selectAll('processes').select('apps.space_guid as space_guid')
        const scope = readableSpaceCondition(ctx.perms, 'apps.space_guid', 'spaces.organization_guid')
        if (scope) qb = qb.where(scope)
        if (q.guids) qb = qb.where('processes.guid', 'in', q.guids)
        if (q.types) qb = qb.where('processes.type', 'in', q.types)
        if (q.app_guids) qb = qb.where('processes.app_guid', 'in', q.app_guids)
        if (q.space_guids) qb = qb.where('apps.space_guid', 'in', q.space_guids)
        if (q.organization_guids) qb = qb.where('spaces.organization_guid', 'in', q.organization_guids)
        const page = await paginate(qb, c.paging, { column: `processes.${c.order.column}`, direction: c.order.direction }, 'processes.guid')
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((p) => presentProcess(p, p.space_guid, ctx.baseUrl))))
      },
    },
    {
      method: 'GET',
      url: '/v3/processes/:guid',
      summary: 'Get a process',
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        const { process, spaceGuid } = await visibleProcess(ctx)
        return ok(presentProcess(process, spaceGuid, ctx.baseUrl))
      },
    },
    {
      method: 'PATCH',
      url: '/v3/processes/:guid',
      summary: "Update a process's command or health check",
      tag: 'Processes',
      auth: 'write',
      body: updateSchema,
      async handler(ctx) {
        const { process, spaceGuid, orgGuid, app } = await visibleProcess(ctx)
        requireSpaceDeveloper(ctx, app)
        const b = ctx.body as z.infer<typeof updateSchema>
        const updated = await db.transaction().execute(async (tx) => {
          const row = await tx
            .updateTable('processes')
            .set({
              command: b.command === undefined ? process.command : b.command,
              health_check: JSON.stringify(b.health_check ? { type: b.health_check.type, data: b.health_check.data ?? {} } : process.health_check),
              updated_at: new Date(),
            })
            .where('guid', '=', process.guid)
            .returningAll()
            .executeTakeFirstOrThrow()
          const request = { ...b, ...(b.command !== undefined ? { command: PRIVATE_DATA_HIDDEN } : {}) }
          await recordAppEvent(tx, app.app, orgGuid, actionContext(db, ctx).actor, APP_EVENT_TYPES.processUpdate, {
            process_guid: process.guid,
            process_type: process.type,
            request,
          })
          return row
        })
        return ok(presentProcess(updated, spaceGuid, ctx.baseUrl))
      },
    },
    {
      method: 'POST',
      url: '/v3/processes/:guid/actions/scale',
      summary: 'Scale a process (recorded; long-running processes are not run)',
      tag: 'Processes',
      auth: 'write',
      body: scaleSchema,
      async handler(ctx) {
        const { process, spaceGuid, orgGuid, app } = await visibleProcess(ctx)
        requireSpaceDeveloper(ctx, app)
        const b = ctx.body as z.infer<typeof scaleSchema>
        const updated = await db.transaction().execute(async (tx) => {
          const row = await tx
            .updateTable('processes')
            .set({
              instances: b.instances ?? process.instances,
              memory_in_mb: b.memory_in_mb ?? process.memory_in_mb,
              disk_in_mb: b.disk_in_mb ?? process.disk_in_mb,
              log_rate_limit_in_bytes_per_second: b.log_rate_limit_in_bytes_per_second ?? process.log_rate_limit_in_bytes_per_second,
              updated_at: new Date(),
            })
            .where('guid', '=', process.guid)
            .returningAll()
            .executeTakeFirstOrThrow()
          await recordAppEvent(tx, app.app, orgGuid, actionContext(db, ctx).actor, APP_EVENT_TYPES.processScale, {
            process_guid: process.guid,
            process_type: process.type,
            request: b,
          })
          return row
        })
        return ok(presentProcess(updated, spaceGuid, ctx.baseUrl), 202)
      },
    },
    {
      method: 'GET',
      url: '/v3/processes/:guid/stats',
      summary: "A process's instances (all DOWN: cf-ledger runs tasks only)",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        const { process } = await visibleProcess(ctx)
        return ok({ resources: presentProcessStats(process) })
      },
    },
    {
      method: 'GET',
      url: '/v3/processes/:guid/sidecars',
      summary: "A process's sidecars (none)",
      tag: 'Processes',
      auth: 'read',
      async handler(ctx) {
        await visibleProcess(ctx)
        return ok(presentList(ctx, pagingOf({}), 0, []))
      },
    },
    {
      method: 'GET',
      url: '/v3/apps/:guid/routes',
      summary: "An app's routes (none: cf-ledger does not route traffic)",
      tag: 'Apps',
      auth: 'read',
      async handler(ctx) {
        await visibleApp(db, ctx)
        return ok(presentList(ctx, pagingOf({}), 0, []))
      },
    },
    emptyList('/v3/routes', 'Routes (none: cf-ledger does not route traffic)', 'Routes'),
    emptyList('/v3/deployments', 'Deployments (none: long-running processes are not run)', 'Deployments'),
  ]
}

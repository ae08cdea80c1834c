// `/v3/app_usage_events` (CC's AppUsageEventsController): global readers only. cf-ledger runs
// no long-running instances, so the events are TASK_STARTED and TASK_STOPPED.
import { notAuthorized, notFound } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { findAppUsageEvent, listAppUsageEvents } from '../../../queries/app-usage-events.ts'
import { timestamp } from '../../../presenters/fields.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { AppUsageEventRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route, route } from '../../route.ts'
import { commonList } from './common.ts'

const listSchema = listQuery({ filters: ['guids', 'after_guid'], orderBy: ['created_at'] })

function presentAppUsageEvent(e: AppUsageEventRow, baseUrl: string) {
  return {
    guid: e.guid,
    created_at: timestamp(e.created_at),
    updated_at: timestamp(e.created_at),
    state: { current: e.state, previous: e.previous_state },
    app: { guid: e.app_guid, name: e.app_name },
    process: { guid: null, type: null },
    space: { guid: e.space_guid, name: e.space_name },
    organization: { guid: e.org_guid },
    buildpack: { guid: null, name: null },
    task: { guid: e.task_guid, name: e.task_name },
    memory_in_mb_per_instance: { current: e.memory_in_mb_per_instance, previous: e.memory_in_mb_per_instance },
    instance_count: { current: e.instance_count, previous: e.instance_count },
    links: { self: { href: `${baseUrl}/v3/app_usage_events/${e.guid}` } },
  }
}

export function appUsageEventRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/v3/app_usage_events',
      summary: 'List app usage events (TASK_STARTED, TASK_STOPPED; admin, admin read-only, global auditor)',
      tag: 'App Usage Events',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        if (!ctx.perms.canReadGlobally) throw notAuthorized()
        const q = ctx.query
        const c = commonList(q)
        const page = await listAppUsageEvents(db, { guids: q.guids, afterGuid: q.after_guid?.[0], createdAts: c.createdAts }, c.paging, c.order)
        if (!page) throw notFound('After guid filter')
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((e) => presentAppUsageEvent(e, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/app_usage_events/:guid',
      summary: 'Get an app usage event',
      tag: 'App Usage Events',
      auth: 'read',
      async handler(ctx) {
        if (!ctx.perms.canReadGlobally) throw notFound('App usage event')
        const e = await findAppUsageEvent(db, ctx.params.guid!)
        if (!e) throw notFound('App usage event')
        return ok(presentAppUsageEvent(e, ctx.baseUrl))
      },
    }),
  ]
}

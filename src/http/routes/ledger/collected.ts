// Events collected from other foundations (docs/collect.md): global readers only, as the
// foundation's own `/v3/audit_events` would show them, with the foundation and their leaf index.
import { notFound } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { listCollectedEvents } from '../../../queries/collected.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route, route } from '../../route.ts'
import { commonList } from '../v3/common.ts'

const collectedQuery = listQuery({ filters: ['foundations', 'guids', 'types'], orderBy: ['created_at'] })

export function collectedEventRoutes(deps: { db: Db }): Route[] {
  return [
    route({
      method: 'GET',
      url: '/ledger/v1/collected_events',
      summary: 'Audit events collected from other Cloud Foundry foundations, as CC returned them (extension)',
      tag: 'Ledger',
      auth: 'read',
      query: collectedQuery,
      async handler(ctx) {
        // Collected data is not mapped onto this server's orgs and spaces: global readers only.
        if (!ctx.perms.canReadGlobally) throw notFound('Collected events')
        const c = commonList(ctx.query)
        const q = ctx.query
        const page = await listCollectedEvents(deps.db, { foundations: q.foundations, guids: q.guids, types: q.types, createdAts: c.createdAts }, c.paging, c.order)
        const resources = page.rows.map((r) => ({
          ...r.resource,
          foundation: r.foundation,
          collected_at: new Date(r.collected_at).toISOString(),
          leaf_index: r.leaf_index === null ? null : Number(r.leaf_index),
        }))
        return ok(presentList(ctx, c.paging, page.total, resources))
      },
    }),
  ]
}

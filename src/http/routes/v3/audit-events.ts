import type { z } from 'zod'
import { notFound } from '../../../errors/api-error.ts'
import { extensionParam, listFilter, listQuery, pagingOf, timestampOps } from '../../../messages/list-query.ts'
import { findEvent, inEventScope, listEvents, type EventFilter, type EventOrder, type StringCondition } from '../../../queries/events.ts'
import { presentAuditEvent } from '../../../presenters/v3/audit-event.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { Db } from '../../../store/store.ts'
import { TEXT_PATTERN } from '../../../messages/text.ts'
import { ok, type Route, route } from '../../route.ts'

/** `target_guids[not]=g1,g2` (CC's TargetGuidsValidator); an empty list is an invalid operator. */
const targetGuidsNot = listFilter.refine((xs) => rubyList(xs).length > 0, {
  message: 'Target guids target_guids has an invalid operator',
}).meta({ pattern: `^(?!,*$)(?!.*%00)${TEXT_PATTERN.slice(1)}` })

// CC's EventsListMessage: the allowed keys, in the order its error message lists them.
export const auditEventsQuery = listQuery({
  filters: ['guids', 'types', 'target_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  // actor_guids and actor_usernames are extensions (CC has no actor filter; docs/audit-events.md).
  extra: {
    'target_guids[not]': targetGuidsNot.optional(),
    actor_guids: extensionParam(listFilter.optional()),
    actor_usernames: extensionParam(listFilter.optional()),
  },
})
type AuditEventsQuery = z.infer<typeof auditEventsQuery>

/** Ruby's String#split drops trailing empty fields: `''` → [], `'a,'` → ['a'], `',a'` → ['', 'a']. */
function rubyList(xs: readonly string[]): string[] {
  const out = [...xs]
  while (out.length && out[out.length - 1] === '') out.pop()
  return out
}

/** The v3 filters as an EventFilter; all timestamp filters compare the created_at column. */
export function auditEventFilter(q: AuditEventsQuery, scope: EventFilter['scope']): EventFilter {
  const conditions: StringCondition[] = []
  const add = (column: StringCondition['column'], op: 'in' | 'not in', values: readonly string[] | undefined) => {
    if (values) conditions.push({ column, op, values: rubyList(values) })
  }
  add('guid', 'in', q.guids)
  add('type', 'in', q.types)
  add('actee', 'in', q.target_guids)
  add('actee', 'not in', q['target_guids[not]'] as string[] | undefined)
  add('space_guid', 'in', q.space_guids)
  add('organization_guid', 'in', q.organization_guids)
  add('actor', 'in', q.actor_guids)
  add('actor_username', 'in', q.actor_usernames)
  return { scope, conditions, createdAt: [timestampOps(q, 'created_ats'), timestampOps(q, 'updated_ats')] }
}

/** CC's default order is id ascending; order_by adds guid, in the same direction, as the tiebreaker. */
export function auditEventOrder(q: AuditEventsQuery): EventOrder {
  return q.order_by ? { kind: 'created_at', direction: q.order_by.direction, tiebreak: 'guid' } : { kind: 'seq', direction: 'asc' }
}

export function auditEventRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/v3/audit_events',
      summary: 'List audit events',
      tag: 'Audit Events',
      auth: 'read',
      query: auditEventsQuery,
      async handler(ctx) {
        const q = ctx.query
        const paging = pagingOf(q)
        const page = await listEvents(db, auditEventFilter(q, ctx.perms.eventScopeV3()), paging, auditEventOrder(q))
        return ok(presentList(ctx, paging, page.total, page.rows.map((e) => presentAuditEvent(e, ctx.baseUrl))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/audit_events/:guid',
      summary: 'Get an audit event',
      tag: 'Audit Events',
      auth: 'read',
      async handler(ctx) {
        const event = await findEvent(db, ctx.params.guid!)
        if (!event || !inEventScope(ctx.perms.eventScopeV3(), event)) throw notFound('Event')
        return ok(presentAuditEvent(event, ctx.baseUrl))
      },
    }),
  ]
}

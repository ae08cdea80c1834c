import { apiError } from '../../../errors/api-error.ts'
import { findEvent, inEventScope, listEvents, type EventFilter, type EventOrder } from '../../../queries/events.ts'
import { presentV2Event } from '../../../presenters/v2/event.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route, route } from '../../route.ts'
import { parseEventQ, v2Paging } from '../../../messages/v2-query.ts'
import { v2Envelope } from '../../../presenters/v2/pagination.ts'

/** `GET /v2/events` and `GET /v2/events/:guid` (EventsController), with v2 errors. */
export function v2EventRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/v2/events',
      summary: 'List events (v2; q on timestamp, type, actee, space_guid, organization_guid)',
      tag: 'Events (v2)',
      auth: 'read',
      errors: 'v2',
      async handler(ctx) {
        const raw = ctx.rawQuery
        const paging = v2Paging(raw, ['timestamp', 'id'])
        const q = parseEventQ(raw)
        const filter: EventFilter = { scope: ctx.perms.eventScopeV2(), conditions: q.conditions, createdAt: q.createdAt, never: q.never }
        // The controller forces order_by [timestamp, id]; order-direction applies to both.
        const order: EventOrder = { kind: 'created_at', direction: paging.direction, tiebreak: 'seq' }
        const page = await listEvents(db, filter, { page: paging.page, perPage: paging.perPage }, order)
        return ok(v2Envelope(ctx.path, raw, paging, page.total, page.rows.map(presentV2Event)))
      },
    }),
    route({
      method: 'GET',
      url: '/v2/events/:guid',
      summary: 'Get an event (v2)',
      tag: 'Events (v2)',
      auth: 'read',
      errors: 'v2',
      async handler(ctx) {
        const guid = ctx.params.guid!
        const event = await findEvent(db, guid)
        if (!event) throw apiError('EventNotFound', guid)
        // v2 tells an invisible event apart from a missing one: 403, not 404.
        if (!inEventScope(ctx.perms.eventScopeV2(), event)) throw apiError('NotAuthorized')
        return ok(presentV2Event(event))
      },
    }),
  ]
}

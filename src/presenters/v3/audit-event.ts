import type { EventRow } from '../../store/schema.ts'
import { timestamp } from '../fields.ts'

/**
 * CC's EventPresenter: created_at and updated_at are both the event's timestamp, actor_username
 * is not shown, `data` is the stored metadata, and a blank space or org guid renders as null.
 */
export function presentAuditEvent(e: EventRow, baseUrl: string) {
  const at = timestamp(e.created_at)
  return {
    guid: e.guid,
    created_at: at,
    updated_at: at,
    type: e.type,
    actor: { guid: e.actor, type: e.actor_type, name: e.actor_name },
    target: { guid: e.actee, type: e.actee_type, name: e.actee_name },
    data: e.metadata ?? {},
    space: e.space_guid ? { guid: e.space_guid } : null,
    organization: e.organization_guid ? { guid: e.organization_guid } : null,
    links: { self: { href: `${baseUrl}/v3/audit_events/${e.guid}` } },
  }
}

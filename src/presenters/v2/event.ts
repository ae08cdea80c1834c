import type { EventRow } from '../../store/schema.ts'
import { timestamp } from '../fields.ts'

/** A /v2/events resource: metadata (guid, url, created_at, updated_at) and the entity in CC's export order. */
export function presentV2Event(e: EventRow) {
  const at = timestamp(e.created_at)
  return {
    metadata: { guid: e.guid, url: `/v2/events/${e.guid}`, created_at: at, updated_at: at },
    entity: {
      type: e.type,
      actor: e.actor,
      actor_type: e.actor_type,
      actor_name: e.actor_name,
      actor_username: e.actor_username,
      actee: e.actee,
      actee_type: e.actee_type,
      actee_name: e.actee_name,
      timestamp: at,
      metadata: e.metadata ?? {},
      space_guid: e.space_guid,
      organization_guid: e.organization_guid,
    },
  }
}

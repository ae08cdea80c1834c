import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

/** An event whose actee is the space, scoped to it and its org (CC's SpaceEventRepository). */
export function recordSpaceEvent(tx: Db, actor: Actor, space: { guid: string; name: string; organization_guid: string }, type: string, metadata: Record<string, unknown>) {
  return recordEvent(tx, {
    type,
    actor,
    actee: { guid: space.guid, type: 'space', name: space.name },
    metadata,
    spaceGuid: space.guid,
    organizationGuid: space.organization_guid,
  })
}

import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

/** An event whose actee is the organization (CC's OrganizationEventRepository). */
export function recordOrganizationEvent(tx: Db, actor: Actor, org: { guid: string; name: string }, type: string, metadata: Record<string, unknown>) {
  return recordEvent(tx, { type, actor, actee: { guid: org.guid, type: 'organization', name: org.name }, metadata, organizationGuid: org.guid })
}

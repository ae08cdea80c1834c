// The fields of an audit event's log entry, with no Node imports: the server (leaf.ts) and the
// browser console's tlog-proof verifier (src/console/app/verify/tlog-proof.ts) share this file, so
// the two can never disagree about what a leaf holds.
import type { ChainedFieldsText } from '../audit/chain-format.ts'

export const EVENT_ENTRY_KIND = 'cf-ledger/event@v1'

/** The largest entry an entry bundle can carry (uint16 length prefix). */
export const MAX_ENTRY_BYTES = 0xffff

/** The entry of an event, as an object to serialise canonically (created_at: millisecond ISO). */
export function eventEntryBody(e: ChainedFieldsText): Record<string, unknown> {
  return {
    kind: EVENT_ENTRY_KIND,
    seq: e.seq,
    guid: e.guid,
    created_at: e.created_at,
    type: e.type,
    actor: { guid: e.actor, type: e.actor_type, name: e.actor_name, username: e.actor_username },
    target: { guid: e.actee, type: e.actee_type, name: e.actee_name },
    metadata: e.metadata,
    space_guid: e.space_guid,
    organization_guid: e.organization_guid,
  }
}

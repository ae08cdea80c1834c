// The canonical bytes of a log entry (docs/ledger.md, "Entries"): UTF-8 JSON in the RFC 8785
// (JCS) canonical form — keys sorted by UTF-16 code units at every level, no whitespace,
// ECMAScript number and string serialisation — which any language can recompute from an event.
// The leaf hash is RFC 6962's SHA-256(0x00 || bytes).
import crypto from 'node:crypto'
import { canonicalJson } from '../audit/chain.ts'
import type { EventFields } from '../audit/chain-format.ts'
import { EVENT_ENTRY_KIND, eventEntryBody, MAX_ENTRY_BYTES } from './entry-format.ts'

export type { EventFields } from '../audit/chain-format.ts'
export { EVENT_ENTRY_KIND, MAX_ENTRY_BYTES } from './entry-format.ts'

/**
 * An event as a log entry (created_at as a Date, or as its millisecond ISO text already). An
 * event whose entry would exceed 65,535 bytes carries `metadata_sha256` (hex SHA-256 of the
 * canonical metadata) instead of `metadata`.
 */
export function eventEntry(e: EventFields<Date | string>): Buffer {
  const created_at = typeof e.created_at === 'string' ? e.created_at : e.created_at.toISOString()
  const full = Buffer.from(directEntry(e, created_at) ?? canonicalJson(eventEntryBody({ ...e, created_at })), 'utf8')
  if (full.length <= MAX_ENTRY_BYTES) return full
  const { metadata, ...rest } = eventEntryBody({ ...e, created_at })
  return Buffer.from(canonicalJson({ ...rest, metadata_sha256: crypto.createHash('sha256').update(canonicalJson(metadata)).digest('hex') }), 'utf8')
}

const str = JSON.stringify

/**
 * The canonical form of eventEntryBody(e) written out in its sorted key order, without building and
 * sorting the object (the integrator's hot path; about twice as fast). Undefined where
 * canonicalJson would drop a member, so the general path decides those.
 */
function directEntry(e: EventFields<unknown>, createdAt: string): string | undefined {
  const fields = [e.actor, e.actor_name, e.actor_type, e.actor_username, e.guid, e.metadata, e.organization_guid, e.space_guid, e.actee, e.actee_name, e.actee_type, e.type]
  if (fields.some((f) => f === undefined)) return undefined
  return (
    `{"actor":{"guid":${str(e.actor)},"name":${str(e.actor_name)},"type":${str(e.actor_type)},"username":${str(e.actor_username)}},` +
    `"created_at":${str(createdAt)},"guid":${str(e.guid)},"kind":${str(EVENT_ENTRY_KIND)},"metadata":${canonicalJson(e.metadata)},` +
    `"organization_guid":${str(e.organization_guid)},"seq":${str(e.seq)},"space_guid":${str(e.space_guid)},` +
    `"target":{"guid":${str(e.actee)},"name":${str(e.actee_name)},"type":${str(e.actee_type)}},"type":${str(e.type)}}`
  )
}

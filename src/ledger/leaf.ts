// The canonical bytes of a log entry (docs/ledger.md, "Entries"): UTF-8 JSON in the RFC 8785
// (JCS) canonical form — keys sorted by UTF-16 code units at every level, no whitespace,
// ECMAScript number and string serialisation — which any language can recompute from an event.
// The leaf hash is RFC 6962's SHA-256(0x00 || bytes).
import crypto from 'node:crypto'
import { canonicalJson } from '../audit/chain.ts'
import type { EventFields } from '../audit/chain-format.ts'
import { eventEntryBody, MAX_ENTRY_BYTES } from './entry-format.ts'

export type { EventFields } from '../audit/chain-format.ts'
export { EVENT_ENTRY_KIND, MAX_ENTRY_BYTES } from './entry-format.ts'

/**
 * An event as a log entry. An event whose entry would exceed 65,535 bytes carries
 * `metadata_sha256` (hex SHA-256 of the canonical metadata) instead of `metadata`.
 */
export function eventEntry(e: EventFields): Buffer {
  const body = eventEntryBody({ ...e, created_at: e.created_at.toISOString() })
  const full = Buffer.from(canonicalJson(body), 'utf8')
  if (full.length <= MAX_ENTRY_BYTES) return full
  const { metadata, ...rest } = body
  return Buffer.from(canonicalJson({ ...rest, metadata_sha256: crypto.createHash('sha256').update(canonicalJson(metadata)).digest('hex') }), 'utf8')
}

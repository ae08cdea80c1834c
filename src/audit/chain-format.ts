// The exact bytes the ledger hashes and signs, with no Node imports: the server (chain.ts,
// checkpoints.ts) and the browser console's verifier (src/console/app/verify/) share this file, so
// the two can never disagree about what was hashed.

export const GENESIS_HASH = '0'.repeat(64)

/** JSON with object keys sorted at every level, so jsonb's key reordering cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  // Loops rather than entries/filter/map: this runs for every event the integrator and verify hash.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i])
    return out + ']'
  }
  const record = value as Record<string, unknown>
  // sort() without a comparator orders by UTF-16 code units, as RFC 8785 asks.
  const keys = Object.keys(record).sort()
  let out = '{'
  for (const k of keys) {
    const v = record[k]
    if (v === undefined) continue
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v)
  }
  return out + '}'
}

/** The fields of an event that its hash and its log entry cover; `created_at` as a Date or its ISO string. */
export interface EventFields<Time = Date> {
  readonly seq: number
  readonly guid: string
  readonly created_at: Time
  readonly type: string
  readonly actor: string
  readonly actor_type: string
  readonly actor_name: string | null
  readonly actor_username: string | null
  readonly actee: string
  readonly actee_type: string
  readonly actee_name: string
  readonly metadata: unknown
  readonly space_guid: string
  readonly organization_guid: string
}

/** The fields an event's hash covers, created_at as the millisecond ISO string. */
export type ChainedFieldsText = EventFields<string>

/** What follows `prev_hash + "\n"` in an event's SHA-256 preimage. */
export function chainBody(e: ChainedFieldsText): string {
  return canonicalJson([
    e.seq,
    e.guid,
    e.created_at,
    e.type,
    e.actor,
    e.actor_type,
    e.actor_name,
    e.actor_username,
    e.actee,
    e.actee_type,
    e.actee_name,
    e.metadata,
    e.space_guid,
    e.organization_guid,
  ])
}

/** The exact text a checkpoint signature covers (UTF-8). */
export function checkpointText(seq: number, hash: string, signedAt: string): string {
  return `cf-ledger checkpoint v1\nseq=${seq}\nhash=${hash}\nsigned_at=${signedAt}\n`
}

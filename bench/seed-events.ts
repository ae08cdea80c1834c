// Seeding audit events for the benchmarks: a ledger's history as events written before migration
// 0015 (hash chain included), inserted in batches through one UNNEST statement, so a million events
// take seconds per 100k rather than minutes. Each benchmark supplies its own event mix and then
// runs SEEDED_HEAD with the returned head, so the server's own events continue after it.
import { eventHash, GENESIS_HASH, type ChainedFields } from '../src/audit/chain.ts'

const COLUMNS = 'seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid, prev_hash, hash'
const TYPES = 'bigint, text, timestamptz, text, text, text, text, text, text, text, text, jsonb, text, text, text, text'.split(', ')

/** `$1..$16`: one array per column, in COLUMNS order. */
export const UNNEST_EVENTS = `insert into events (${COLUMNS}) select * from unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`

/** `$1` seq, `$2` hash, `$3` created_at of the last seeded event: the ledger head and the seq sequence past it. */
export const SEEDED_HEAD = `with h as (update ledger_head set seq = $1, hash = $2, created_at = $3 where id = 1 returning seq)
  select setval('events_seq_seq', (select seq from h))`

export interface ChainHead {
  readonly seq: number
  readonly hash: string
}

/**
 * Makes events `from.seq + 1 … from.seq + n` with `make(seq)`, chains them after `from` and hands
 * each batch's column arrays to `insert` (run UNNEST_EVENTS with them). Returns the new head, for
 * `ledger_head`.
 */
export async function seedChainedEvents(
  n: number,
  make: (seq: number) => ChainedFields,
  insert: (columns: unknown[][]) => Promise<unknown>,
  o: { readonly from?: ChainHead; readonly batch?: number; readonly progress?: (seq: number) => void } = {},
): Promise<ChainHead> {
  const batch = o.batch ?? 5000
  let prev = o.from?.hash ?? GENESIS_HASH
  const first = (o.from?.seq ?? 0) + 1
  const last = first + n - 1
  let cols: unknown[][] = Array.from({ length: 16 }, () => [])
  for (let seq = first; seq <= last; seq++) {
    const e = make(seq)
    const hash = eventHash(prev, e)
    const row = [e.seq, e.guid, e.created_at.toISOString(), e.type, e.actor, e.actor_type, e.actor_name, e.actor_username, e.actee, e.actee_type, e.actee_name, JSON.stringify(e.metadata), e.space_guid, e.organization_guid, prev, hash]
    row.forEach((v, i) => cols[i]!.push(v))
    prev = hash
    if ((seq - first + 1) % batch === 0 || seq === last) {
      await insert(cols)
      cols = Array.from({ length: 16 }, () => [])
      o.progress?.(seq)
    }
  }
  return { seq: last, hash: prev }
}

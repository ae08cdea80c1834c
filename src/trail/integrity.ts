import { eventHash } from '../audit/chain.ts'
import { dbNodeReader } from '../ledger/log-store.ts'
import { eventEntry } from '../ledger/leaf.ts'
import { leafHash } from '../ledger/merkle.ts'
import type { EventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export interface Integrity {
  /** True when every related event is intact: its chain hash and link, or its leaf in the log. */
  readonly verified: boolean
  readonly events_checked: number
  /** The first problem found, naming the event's sequence number. */
  readonly problem: string | null
  /** Events not yet integrated into the log: checked once they are leaves (decisions/0010). */
  readonly events_pending?: number
}

/**
 * Checks the given events. An event from the hash chain's era (it has a hash) must match its hash
 * and link to the event before it (seq - 1). A later event must hash, as a log entry, to its leaf
 * in the stored tiles; one that is not a leaf yet is pending. The full-store check is
 * `cf-ledger verify`; a proof to a signed checkpoint is the task's `.tlog-proof`.
 */
export async function verifyEvents(db: Db, events: readonly EventRow[], leaves: ReadonlyMap<number, number>): Promise<Integrity> {
  if (events.length === 0) return { verified: true, events_checked: 0, problem: null }
  const chained = events.filter((e) => e.hash !== null)
  const predecessors = chained.length
    ? await db
        .selectFrom('events')
        .select(['seq', 'hash'])
        .where('seq', 'in', chained.map((e) => Number(e.seq) - 1).filter((s) => s > 0))
        .execute()
    : []
  const hashBySeq = new Map(predecessors.map((p) => [Number(p.seq), p.hash]))
  // Every leaf these events have, read in one pass over the tiles rather than one read per event.
  const indices = events.filter((e) => e.hash === null).flatMap((e) => leaves.get(Number(e.seq)) ?? [])
  const stored = await dbNodeReader(db)(indices.map((index) => ({ level: 0, index })))
  const leafAt = new Map(indices.map((index, i) => [index, stored[i]!]))
  const failed = (problem: string): Integrity => ({ verified: false, events_checked: events.length, problem })
  let pending = 0
  for (const e of events) {
    const seq = Number(e.seq)
    const fields = { ...e, seq, created_at: new Date(e.created_at) }
    if (e.hash === null) {
      const index = leaves.get(seq)
      if (index === undefined) {
        pending++
        continue
      }
      if (!leafHash(eventEntry(fields)).equals(leafAt.get(index)!)) return failed(`event ${seq} (${e.guid}) no longer hashes to its leaf ${index}: it was edited`)
      continue
    }
    if (eventHash(e.prev_hash ?? '', fields) !== e.hash) return failed(`event ${seq} (${e.guid}) does not match its hash: it was edited`)
    if (seq > 1) {
      const before = hashBySeq.get(seq - 1)
      if (before === undefined) return failed(`event ${seq - 1} before event ${seq} is missing`)
      if (before !== e.prev_hash) return failed(`event ${seq} is not chained to event ${seq - 1}`)
    }
  }
  return { verified: true, events_checked: events.length, problem: null, ...(pending ? { events_pending: pending } : {}) }
}

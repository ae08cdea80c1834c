import { eventHash } from '../audit/chain.ts'
import type { EventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export interface Integrity {
  /** True when every related event matches its hash and links to the event before it. */
  readonly verified: boolean
  readonly events_checked: number
  /** The first problem found, naming the event's sequence number. */
  readonly problem: string | null
}

/**
 * Checks the chain around the given events: each event's own hash, and that the event before it
 * (seq - 1) still carries the hash this event was chained to. The full-store check is
 * `cf-ledger verify`.
 */
export async function verifyEvents(db: Db, events: readonly EventRow[]): Promise<Integrity> {
  if (events.length === 0) return { verified: true, events_checked: 0, problem: null }
  const seqs = events.map((e) => Number(e.seq))
  const predecessors = await db
    .selectFrom('events')
    .select(['seq', 'hash'])
    .where('seq', 'in', seqs.map((s) => s - 1).filter((s) => s > 0))
    .execute()
  const hashBySeq = new Map(predecessors.map((p) => [Number(p.seq), p.hash]))
  for (const e of events) {
    const seq = Number(e.seq)
    const recomputed = eventHash(e.prev_hash, { ...e, seq, created_at: new Date(e.created_at) })
    if (recomputed !== e.hash) return { verified: false, events_checked: events.length, problem: `event ${seq} (${e.guid}) does not match its hash: it was edited` }
    if (seq > 1) {
      const before = hashBySeq.get(seq - 1)
      if (before === undefined) return { verified: false, events_checked: events.length, problem: `event ${seq - 1} before event ${seq} is missing` }
      if (before !== e.prev_hash) return { verified: false, events_checked: events.length, problem: `event ${seq} is not chained to event ${seq - 1}` }
    }
  }
  return { verified: true, events_checked: events.length, problem: null }
}

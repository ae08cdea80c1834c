// The leaf pass of `cf-ledger verify` (verify-log.ts): each leaf of a range against the entry its
// event or task run gives today. It runs on the main thread, or split over worker threads
// (verify-leaves-worker.ts), each reading its own range on its own connection to one snapshot.
// A leaf whose event was pruned is checked against the archive by the main thread, which holds
// the archive segments: the scan hands those leaves back, a batch at a time.
import { eventEntry, type EventFields } from './leaf.ts'
import { leafHash } from './merkle.ts'
import { hashAt, TILE_WIDTH } from './tiles.ts'

export type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>

export interface LogProblem {
  readonly kind: 'tile' | 'duplicated' | 'archive' | 'inserted'
  readonly seq?: number
  readonly guid?: string
  readonly message: string
}

/** A leaf whose event is no longer in the table: its archived copy decides. */
export interface PrunedLeaf {
  readonly index: number
  readonly seq: number
  readonly stored: Uint8Array
}

export interface LeafScan {
  readonly q: Query
  readonly from: number
  readonly to: number
  /** A level-0 tile by its index, as stored. */
  level0(tile: number): Uint8Array | undefined
  /** Seqs of the events the readable archive segments hold, ascending. */
  readonly archivedSeqs: Float64Array
  /** Batches read while the current one is checked (where q has connections for them). */
  readonly readAhead: number
  /** Leaves a query reads (LEAF_BATCH unless given). */
  readonly batch?: number | undefined
  add(p: LogProblem): void
  onPruned(leaves: PrunedLeaf[]): void | Promise<void>
}

export const LEAF_BATCH = 10_000

type LeafRow = EventFields<Date | string> & { leaf_index: string | number; event_seq: string | number | null; seq: number | string | null; task_entry: Buffer | Uint8Array | null }

const bytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)

/** Whether a sorted array holds x. */
function holds(sorted: Float64Array, x: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const v = sorted[mid]!
    if (v === x) return true
    if (v < x) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** Checks leaves [from, to); returns how many it checked against an entry (pruned ones not counted). */
export async function scanLeaves(s: LeafScan): Promise<number> {
  const { q, add } = s
  const size = s.batch ?? LEAF_BATCH
  let leaves = 0
  const batch = (from: number) =>
    q<LeafRow>(
      `select l.leaf_index, l.event_seq, e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name, e.actor_username,
        e.actee, e.actee_type, e.actee_name, e.metadata, e.space_guid, e.organization_guid, coalesce(t.entry, c.entry) as task_entry
       from ledger_leaves l
         left join lateral (select * from events e where e.seq = l.event_seq offset 0) e on true
         left join lateral (select t.entry from ledger_task_runs t where t.task_guid = l.task_guid offset 0) t on true
         left join lateral (select c.entry from collected_events c where c.id = l.collected_event_id offset 0) c on true
       where l.leaf_index >= $1 and l.leaf_index < $2 order by l.leaf_index`,
      [from, Math.min(s.to, from + size)],
    )
  // The lateral subqueries (kept whole by `offset 0`) make each leaf one primary-key lookup of its
  // record: as plain joins the planner chose a parallel plan (two extra backends per batch) or,
  // without parallel workers, a sequential scan of all events for every batch (and would have for
  // task runs and collected events as those tables grow).
  // Reading is the slower side: the next batches are read while this one is hashed.
  const pending = new Map<number, ReturnType<typeof batch>>()
  for (let from = s.from; from < s.to; from += size) {
    for (let f = from; f < Math.min(s.to, from + (1 + s.readAhead) * size); f += size) {
      if (pending.has(f)) continue
      const read = batch(f)
      // A read-ahead that fails while an earlier batch is being awaited must not go unhandled:
      // its error surfaces when its own turn comes (or not at all, if an earlier one threw).
      read.catch(() => undefined)
      pending.set(f, read)
    }
    const rows = await pending.get(from)!
    pending.delete(from)
    const pruned: PrunedLeaf[] = []
    let expected = from
    for (const r of rows) {
      const index = Number(r.leaf_index)
      if (index !== expected) add({ kind: 'tile', message: `leaf ${expected} has no record in ledger_leaves: the leaf index was deleted` })
      expected = index + 1
      const tile = s.level0(Math.floor(index / TILE_WIDTH))
      const stored = tile && tile.length >= (index % TILE_WIDTH + 1) * 32 ? hashAt(bytes(tile), index % TILE_WIDTH) : undefined
      if (!stored) {
        add({ kind: 'tile', message: `leaf ${index} is missing from its level-0 tile` })
        continue
      }
      if (r.seq === null && !r.task_entry) {
        pruned.push({ index, seq: Number(r.event_seq), stored })
        continue
      }
      let hash: Buffer
      if (r.task_entry) hash = leafHash(bytes(r.task_entry))
      else {
        const seq = Number(r.seq)
        // A worker's client gives seq as a number already (verify-leaves-worker.ts): no copy of the row.
        hash = leafHash(eventEntry(typeof r.seq === 'number' ? (r as EventFields<Date | string>) : { ...r, seq }))
        if (holds(s.archivedSeqs, seq)) add({ kind: 'duplicated', seq, guid: r.guid, message: `event seq ${seq} (guid ${r.guid}) is both archived and still in the table` })
      }
      leaves++
      if (!hash.equals(stored)) {
        const seq = r.seq ?? r.event_seq
        const what = r.task_entry ? `the task run record of leaf ${index}` : `event seq ${Number(seq)} (leaf ${index})`
        add({ kind: 'tile', ...(seq !== null ? { seq: Number(seq) } : {}), ...(r.guid ? { guid: r.guid } : {}), message: `${what} was changed after it was logged: it no longer hashes to its leaf` })
      }
    }
    if (pruned.length) await s.onPruned(pruned)
  }
  return leaves
}

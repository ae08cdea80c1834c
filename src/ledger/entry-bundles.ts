// The C2SP entry bundle of one data tile: each leaf's entry in leaf order, read back from the rows
// the leaves were built from (an event's canonical entry, a task run's or a collected event's
// stored entry).
import { sql } from 'kysely'
import type { Db } from '../store/store.ts'
import { eventEntry } from './leaf.ts'
import { encodeBundle, TILE_WIDTH } from './tiles.ts'

type BundleRow = Omit<Parameters<typeof eventEntry>[0], 'seq' | 'created_at'> & {
  seq: number | string | null
  created_at: Date | string
  task_entry: Buffer | Uint8Array | null
}

/** Undefined when the bundle cannot be served whole (fewer leaves, or an event pruned by retention). */
export async function entryBundle(db: Db, index: number, width: number): Promise<Buffer | undefined> {
  const first = index * TILE_WIDTH
  const rows = (
    await sql<BundleRow>`
      select e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name, e.actor_username, e.actee,
        e.actee_type, e.actee_name, e.metadata, e.space_guid, e.organization_guid, coalesce(t.entry, c.entry) as task_entry
      from ledger_leaves l left join events e on e.seq = l.event_seq left join ledger_task_runs t on t.task_guid = l.task_guid
        left join collected_events c on c.id = l.collected_event_id
      where l.leaf_index >= ${first} and l.leaf_index < ${first + width} order by l.leaf_index`.execute(db)
  ).rows
  const entries: Buffer[] = []
  for (const r of rows) {
    if (r.task_entry) entries.push(Buffer.from(r.task_entry))
    else if (r.seq !== null) entries.push(eventEntry({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }))
    else return undefined // the event was pruned by retention: the bundle can no longer be served whole
  }
  return entries.length === width ? encodeBundle(entries) : undefined
}

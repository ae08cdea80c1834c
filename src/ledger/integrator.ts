// The integrator turns committed events into leaves, in integration order and without skipping
// one (docs/decisions/0008-integrate-below-oldest-running-transaction.md). It takes only rows whose inserting
// transaction is below the oldest transaction still running: such a transaction has finished,
// so its rows are either visible now or never will be, and any row that becomes visible later
// belongs to a transaction at or above that horizon, which sorts after everything integrated.
// Events from before the ledger log existed (xid null) come first, in seq order.
import { sql } from 'kysely'
import type { Db } from '../store/store.ts'
import { eventEntry, type EventFields } from './leaf.ts'
import { logState, readTiles } from './log-store.ts'
import { leafHash } from './merkle.ts'
import { appendLeaves, edgeTiles } from './tiles.ts'

type EventRow = Omit<EventFields, 'seq' | 'created_at'> & { seq: string | number; created_at: Date | string; xid_text: string | null }

const EVENT_COLUMNS = sql`seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
  actee_name, metadata, space_guid, organization_guid, xid::text as xid_text`
// Never alias a column as `xid`: ORDER BY xid would then sort the text ("1000" < "999"), the
// cursor would stop below the first longer xid and the next pass would take rows again.

export interface IntegrateResult {
  readonly added: number
  readonly size: number
}

/** Rows per source per pass: 5,000 integrates about 30% faster than 2,000 (docs/performance.md). */
const BATCH = 5000

type Leaf = { readonly entry: Buffer; readonly eventSeq: number | null; readonly taskGuid: string | null; readonly collectedId: number | null }

/**
 * Integrates up to `batch` events and `batch` task-run records in one transaction; serialised
 * against other integrators by the log row. Each source is read by its own (xid, id) cursor.
 */
export async function integrateOnce(db: Db, batch = BATCH): Promise<IntegrateResult & { full: boolean }> {
  return db.transaction().execute(async (tx) => {
    // The horizon first: every transaction below it has finished, whenever the rows are read.
    const horizon = (await sql<{ h: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as h`.execute(tx)).rows[0]!.h
    const state = await logState(tx, true)
    let legacySeq = state.legacySeq
    let cursor = { xid: state.cursorXid, seq: state.cursorSeq }
    let rows = (await sql<EventRow>`select ${EVENT_COLUMNS} from events where xid is null and seq > ${legacySeq} order by seq limit ${batch}`.execute(tx)).rows
    if (rows.length) legacySeq = Number(rows.at(-1)!.seq)
    if (rows.length < batch) {
      const fresh = (
        await sql<EventRow>`select ${EVENT_COLUMNS} from events
          where (xid, seq) > (${cursor.xid}::xid8, ${cursor.seq}) and xid < ${horizon}::xid8
          order by xid, seq limit ${batch - rows.length}`.execute(tx)
      ).rows
      if (fresh.length) cursor = { xid: fresh.at(-1)!.xid_text!, seq: Number(fresh.at(-1)!.seq) }
      rows = [...rows, ...fresh]
    }
    let taskCursor = { xid: state.taskCursorXid, id: state.taskCursorId }
    const runs = (
      await sql<{ id: string | number; task_guid: string; entry: Buffer | Uint8Array; xid_text: string }>`
        select id, task_guid, entry, xid::text as xid_text from ledger_task_runs
        where (xid, id) > (${taskCursor.xid}::xid8, ${taskCursor.id}) and xid < ${horizon}::xid8 order by xid, id limit ${batch}`.execute(tx)
    ).rows
    if (runs.length) taskCursor = { xid: runs.at(-1)!.xid_text, id: Number(runs.at(-1)!.id) }
    // Events collected from other foundations (docs/collect.md): entry bytes fixed at insert.
    let collectedCursor = { xid: state.collectedCursorXid, id: state.collectedCursorId }
    const collected = (
      await sql<{ id: string | number; entry: Buffer | Uint8Array; xid_text: string }>`
        select id, entry, xid::text as xid_text from collected_events
        where (xid, id) > (${collectedCursor.xid}::xid8, ${collectedCursor.id}) and xid < ${horizon}::xid8 order by xid, id limit ${batch}`.execute(tx)
    ).rows
    if (collected.length) collectedCursor = { xid: collected.at(-1)!.xid_text, id: Number(collected.at(-1)!.id) }
    const leaves: Leaf[] = [
      ...rows.map((r) => ({ entry: eventEntry({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }), eventSeq: Number(r.seq), taskGuid: null, collectedId: null })),
      ...collected.map((r) => ({ entry: Buffer.from(r.entry), eventSeq: null, taskGuid: null, collectedId: Number(r.id) })),
      // A task run after its own events: they share the transaction that ended the task.
      ...runs.map((r) => ({ entry: Buffer.from(r.entry), eventSeq: null, taskGuid: r.task_guid, collectedId: null })),
    ]
    const full = rows.length === batch || runs.length === batch || collected.length === batch
    if (!leaves.length) return { added: 0, size: state.size, full }
    const edge = await readTiles(tx, edgeTiles(state.size))
    const changed = appendLeaves(state.size, edge, leaves.map((l) => leafHash(l.entry)))
    // One statement for all changed tiles (about 20 per 5,000 leaves): a round trip each was a
    // tenth of the pass.
    await sql`insert into ledger_tiles (level, idx, width, hashes)
      select * from unnest(${sql.val(changed.map((t) => t.level))}::int[], ${sql.val(changed.map((t) => t.index))}::bigint[],
        ${sql.val(changed.map((t) => t.width))}::int[], ${sql.val(changed.map((t) => t.bytes))}::bytea[])
      on conflict (level, idx) do update set width = excluded.width, hashes = excluded.hashes`.execute(tx)
    await sql`insert into ledger_leaves (leaf_index, event_seq, task_guid, collected_event_id)
      select * from unnest(${sql.val(leaves.map((_, i) => state.size + i))}::bigint[], ${sql.val(leaves.map((l) => l.eventSeq))}::bigint[],
        ${sql.val(leaves.map((l) => l.taskGuid))}::text[], ${sql.val(leaves.map((l) => l.collectedId))}::bigint[])`.execute(tx)
    const size = state.size + leaves.length
    await sql`update ledger_log set size = ${size}, legacy_seq = ${legacySeq}, cursor_xid = ${cursor.xid}::xid8, cursor_seq = ${cursor.seq},
      task_cursor_xid = ${taskCursor.xid}::xid8, task_cursor_id = ${taskCursor.id},
      collected_cursor_xid = ${collectedCursor.xid}::xid8, collected_cursor_id = ${collectedCursor.id} where id = 1`.execute(tx)
    return { added: leaves.length, size, full }
  })
}

/**
 * True when a pass would find anything, as one read-only SQL condition (LedgerLog asks it with the
 * others before opening any transaction).
 */
export const INTEGRATION_PENDING = sql<boolean>`(with l as (select *, pg_snapshot_xmin(pg_current_snapshot()) as horizon from ledger_log where id = 1)
  select exists (select 1 from l, events e where e.xid is null and e.seq > l.legacy_seq)
    or exists (select 1 from l, events e where (e.xid, e.seq) > (l.cursor_xid, l.cursor_seq) and e.xid < l.horizon)
    or exists (select 1 from l, ledger_task_runs t where (t.xid, t.id) > (l.task_cursor_xid, l.task_cursor_id) and t.xid < l.horizon)
    or exists (select 1 from l, collected_events c where (c.xid, c.id) > (l.collected_cursor_xid, l.collected_cursor_id) and c.xid < l.horizon))`

/** Integrates until nothing below the horizon is left. */
export async function integrateAll(db: Db, batch = BATCH): Promise<number> {
  let total = 0
  for (;;) {
    const r = await integrateOnce(db, batch)
    total += r.added
    if (!r.full) return total
  }
}

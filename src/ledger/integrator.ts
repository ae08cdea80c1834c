// The integrator turns committed events into leaves, in integration order and without skipping
// one (docs/decisions/0004-lock-free-append-integrator.md). It takes only rows whose inserting
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

type EventRow = Omit<EventFields, 'seq' | 'created_at'> & { seq: string | number; created_at: Date | string; xid: string | null }

const EVENT_COLUMNS = sql`seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
  actee_name, metadata, space_guid, organization_guid, xid::text as xid`

export interface IntegrateResult {
  readonly added: number
  readonly size: number
}

/** Integrates up to `batch` rows in one transaction; serialised against other integrators by the log row. */
export async function integrateOnce(db: Db, batch = 2000): Promise<IntegrateResult> {
  return db.transaction().execute(async (tx) => {
    // The horizon first: every transaction below it has finished, whenever the rows are read.
    const horizon = (await sql<{ h: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as h`.execute(tx)).rows[0]!.h
    const state = await logState(tx, true)
    let rows: EventRow[] = []
    let legacySeq = state.legacySeq
    let cursor = { xid: state.cursorXid, seq: state.cursorSeq }
    rows = (await sql<EventRow>`select ${EVENT_COLUMNS} from events where xid is null and seq > ${legacySeq} order by seq limit ${batch}`.execute(tx)).rows
    if (rows.length) legacySeq = Number(rows.at(-1)!.seq)
    if (rows.length < batch) {
      const fresh = (
        await sql<EventRow>`select ${EVENT_COLUMNS} from events
          where (xid, seq) > (${cursor.xid}::xid8, ${cursor.seq}) and xid < ${horizon}::xid8
          order by xid, seq limit ${batch - rows.length}`.execute(tx)
      ).rows
      if (fresh.length) cursor = { xid: fresh.at(-1)!.xid!, seq: Number(fresh.at(-1)!.seq) }
      rows = [...rows, ...fresh]
    }
    if (!rows.length) return { added: 0, size: state.size }
    const hashes = rows.map((r) => leafHash(eventEntry({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) })))
    const edge = await readTiles(tx, edgeTiles(state.size))
    const changed = appendLeaves(state.size, edge, hashes)
    for (const t of changed) {
      await sql`insert into ledger_tiles (level, idx, width, hashes) values (${t.level}, ${t.index}, ${t.width}, ${t.bytes})
        on conflict (level, idx) do update set width = excluded.width, hashes = excluded.hashes`.execute(tx)
    }
    const indexes = rows.map((_, i) => state.size + i)
    await sql`insert into ledger_leaves (leaf_index, event_seq)
      select * from unnest(${sql.val(indexes)}::bigint[], ${sql.val(rows.map((r) => Number(r.seq)))}::bigint[])`.execute(tx)
    const size = state.size + rows.length
    await sql`update ledger_log set size = ${size}, legacy_seq = ${legacySeq}, cursor_xid = ${cursor.xid}::xid8, cursor_seq = ${cursor.seq} where id = 1`.execute(tx)
    return { added: rows.length, size }
  })
}

/** Integrates until nothing below the horizon is left. */
export async function integrateAll(db: Db, batch = 2000): Promise<number> {
  let total = 0
  for (;;) {
    const r = await integrateOnce(db, batch)
    total += r.added
    if (r.added < batch) return total
  }
}

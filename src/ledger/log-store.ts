// Reads of the stored log: tiles (as a NodeReader for proofs), leaves, checkpoints.
import { sql } from 'kysely'
import type { Db } from '../store/store.ts'
import { consistencyProof, HASH_SIZE, inclusionProof, treeRoot, type Hash, type NodeReader } from './merkle.ts'
import { tileReader, TILE_WIDTH } from './tiles.ts'

export interface StoredTile {
  readonly level: number
  readonly index: number
  readonly width: number
  readonly hashes: Buffer
}

/**
 * Full tiles never change (the database only lets a tile grow, and a full one cannot), so this
 * process keeps the most recently used ones: with their inner hashes computed once (tiles.ts),
 * a proof then costs little more than reading the right-edge partial tiles. A partial tile's
 * first hashes never change either, so a reader that says how many it needs (a proof at some
 * size) is served from the widest copy read so far when that is wide enough; the integrator,
 * which must see the edge as it is, says nothing and always reads.
 */
const FULL_TILE_CACHE = 2048 // 16 MiB of hashes per store
const EDGE_TILE_CACHE = 64
interface TileCache {
  readonly full: Map<string, Buffer>
  readonly edge: Map<string, Buffer>
}
const cacheByStore = new WeakMap<Db, TileCache>()

function remember(cache: TileCache, key: string, hashes: Buffer): void {
  const full = hashes.length === TILE_WIDTH * HASH_SIZE
  const map = full ? cache.full : cache.edge
  if (full) cache.edge.delete(key)
  else if ((map.get(key)?.length ?? 0) >= hashes.length) return
  map.delete(key)
  map.set(key, hashes)
  if (map.size > (full ? FULL_TILE_CACHE : EDGE_TILE_CACHE)) map.delete(map.keys().next().value!)
}

export async function readTiles(db: Db, ids: readonly { level: number; index: number; need?: number }[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  let cache = cacheByStore.get(db)
  if (!cache) cacheByStore.set(db, (cache = { full: new Map(), edge: new Map() }))
  const { full, edge } = cache
  const missing = ids.filter((t) => {
    const key = `${t.level}/${t.index}`
    const partial = t.need === undefined ? undefined : edge.get(key)
    const hit = full.get(key) ?? (partial && partial.length >= t.need! * HASH_SIZE ? partial : undefined)
    if (hit) out.set(key, hit)
    return !hit
  })
  if (!missing.length) return out
  // A proof whose other tiles are cached misses one tile: a plain primary-key read then, not a join.
  const one = missing.length === 1 ? missing[0]! : undefined
  const rows = await sql<{ level: number; idx: string | number; hashes: Buffer | Uint8Array }>`
    select t.level, t.idx, t.hashes from ledger_tiles t
    ${
      one
        ? sql`where t.level = ${one.level} and t.idx = ${one.index}`
        : sql`join unnest(${sql.val(missing.map((t) => t.level))}::int[], ${sql.val(missing.map((t) => t.index))}::bigint[]) as w(level, idx)
            on t.level = w.level and t.idx = w.idx`
    }`.execute(db)
  for (const r of rows.rows) {
    const key = `${r.level}/${Number(r.idx)}`
    const hashes = Buffer.from(r.hashes)
    out.set(key, hashes)
    remember(cache, key, hashes)
  }
  return out
}

export async function readTile(db: Db, level: number, index: number): Promise<StoredTile | undefined> {
  const r = (await sql<{ width: number; hashes: Buffer | Uint8Array }>`
    select width, hashes from ledger_tiles where level = ${level} and idx = ${index}`.execute(db)).rows[0]
  return r ? { level, index, width: r.width, hashes: Buffer.from(r.hashes) } : undefined
}

export const dbNodeReader = (db: Db): NodeReader => tileReader((ids) => readTiles(db, ids))

export interface LogState {
  readonly size: number
  readonly legacySeq: number
  readonly cursorXid: string
  readonly cursorSeq: number
  readonly taskCursorXid: string
  readonly taskCursorId: number
  readonly collectedCursorXid: string
  readonly collectedCursorId: number
}

export async function logState(db: Db, forUpdate = false): Promise<LogState> {
  const r = (await sql<{ size: string | number; legacy_seq: string | number; cursor_xid: string; cursor_seq: string | number; task_cursor_xid: string; task_cursor_id: string | number; collected_cursor_xid: string; collected_cursor_id: string | number }>`
    select size, legacy_seq, cursor_xid::text as cursor_xid, cursor_seq, task_cursor_xid::text as task_cursor_xid, task_cursor_id,
      collected_cursor_xid::text as collected_cursor_xid, collected_cursor_id
    from ledger_log where id = 1 ${forUpdate ? sql`for update` : sql``}`.execute(db)).rows[0]!
  return {
    size: Number(r.size),
    legacySeq: Number(r.legacy_seq),
    cursorXid: r.cursor_xid,
    cursorSeq: Number(r.cursor_seq),
    taskCursorXid: r.task_cursor_xid,
    taskCursorId: Number(r.task_cursor_id),
    collectedCursorXid: r.collected_cursor_xid,
    collectedCursorId: Number(r.collected_cursor_id),
  }
}

export interface StoredCheckpoint {
  readonly size: number
  readonly root: Buffer
  readonly note: string
  readonly vkey: string
  readonly signed_at: Date
  readonly cosignatures: string
}

type CheckpointRow = { size: string | number; root: Buffer | Uint8Array; note: string; vkey: string; signed_at: Date | string; cosignatures: string }
const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  size: Number(r.size),
  root: Buffer.from(r.root),
  note: r.note,
  vkey: r.vkey,
  signed_at: new Date(r.signed_at),
  cosignatures: r.cosignatures,
})

export async function latestCheckpoint(db: Db): Promise<StoredCheckpoint | undefined> {
  const r = (await sql<CheckpointRow>`select size, root, note, vkey, signed_at, cosignatures from ledger_log_checkpoints order by size desc limit 1`.execute(db)).rows[0]
  return r && toCheckpoint(r)
}

export async function checkpointAt(db: Db, size: number): Promise<StoredCheckpoint | undefined> {
  const r = (await sql<CheckpointRow>`select size, root, note, vkey, signed_at, cosignatures from ledger_log_checkpoints where size = ${size}`.execute(db)).rows[0]
  return r && toCheckpoint(r)
}

/** The newest checkpoint whose tree is no larger than `size` (what a reader at that position can check). */
export async function checkpointAtOrBelow(db: Db, size: number): Promise<StoredCheckpoint | undefined> {
  const r = (await sql<CheckpointRow>`select size, root, note, vkey, signed_at, cosignatures from ledger_log_checkpoints where size <= ${size} order by size desc limit 1`.execute(db)).rows[0]
  return r && toCheckpoint(r)
}

/** The checkpoint note with its cosignature lines appended: what clients and proof files carry. */
export const cosignedNote = (c: StoredCheckpoint): string => c.note + c.cosignatures

export async function leafOfEvent(db: Db, guid: string): Promise<number | undefined> {
  const r = (await sql<{ leaf_index: string | number }>`
    select l.leaf_index from ledger_leaves l join events e on e.seq = l.event_seq where e.guid = ${guid}`.execute(db)).rows[0]
  return r ? Number(r.leaf_index) : undefined
}

export async function leafOfTask(db: Db, taskGuid: string): Promise<number | undefined> {
  const r = (await sql<{ leaf_index: string | number }>`select leaf_index from ledger_leaves where task_guid = ${taskGuid}`.execute(db)).rows[0]
  return r ? Number(r.leaf_index) : undefined
}

/** A finished task run's ledger entry (its leaf is the hash of it), if it has one yet. */
export async function storedTaskRunEntry(db: Db, taskGuid: string): Promise<Buffer | undefined> {
  const row = (await sql<{ entry: Buffer | Uint8Array }>`select entry from ledger_task_runs where task_guid = ${taskGuid}`.execute(db)).rows[0]
  return row ? Buffer.from(row.entry) : undefined
}

export async function leafHashAt(db: Db, index: number): Promise<Hash> {
  const [h] = await dbNodeReader(db)([{ level: 0, index }])
  return h!
}

export const proveInclusion = (db: Db, index: number, size: number) => inclusionProof(index, size, dbNodeReader(db))
export const proveConsistency = (db: Db, size1: number, size2: number) => consistencyProof(size1, size2, dbNodeReader(db))
export const rootAt = (db: Db, size: number) => treeRoot(size, dbNodeReader(db))

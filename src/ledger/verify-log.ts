// The ledger log part of `cf-ledger verify` (database access): every leaf against the entry its
// event or task run gives today, every tile above level 0 against the tiles below it, and every
// signed checkpoint's signature and root against the tiles. Names the first event whose entry
// changed after it was logged, and any tile or checkpoint that was rewritten.
import { parseCheckpointText } from './checkpoint.ts'
import { eventEntry, type EventFields } from './leaf.ts'
import { leafHash, treeRoot } from './merkle.ts'
import { openNote, parseNote, parseSkey, signerFromSeed, type Verifier } from './note.ts'
import { hashAt, tileReader, tileRoot, TILE_WIDTH } from './tiles.ts'
import { type LogProblem, type PrunedLeaf, type Query, scanLeaves } from './verify-leaves.ts'
import { type ParallelLeaves, scanLeavesInWorkers } from './verify-leaves-pool.ts'

export type { LogProblem, Query } from './verify-leaves.ts'

export interface LogReport {
  readonly problems: LogProblem[]
  readonly warnings: string[]
  readonly leaves: number
  readonly tiles: number
  readonly checkpoints: number
}

const bytes = (b: Buffer | Uint8Array) => Buffer.from(b)

/** Keys a checkpoint may be signed with: the configured signer key, or the store's own seed under the checkpoint's origin. */
function trustedFor(origin: string, seedHex: string | undefined, configured: string | undefined): Verifier[] {
  const out: Verifier[] = []
  if (configured) out.push(parseSkey(configured).verifier)
  if (seedHex) out.push(signerFromSeed(origin, Buffer.from(seedHex, 'hex')).verifier)
  return out
}

/** A pruned event's archived copy by its seq (and leaf), `unreadable` if its segment is missing. */
export type ArchivedLookup = (seq: number, leafIndex: number) => (EventFields<string> & { readonly leaf_index?: number }) | 'unreadable' | undefined

export interface VerifyLogOptions {
  readonly archived: ArchivedLookup
  /** Seqs of the events in readable archive segments, ascending (for the "still in the table" check). */
  readonly archivedSeqs?: Float64Array
  readonly logKey?: string
  readonly max?: number
  /** Split the leaf pass over worker threads, each on its own connection to this snapshot. */
  readonly parallel?: ParallelLeaves
}

export async function verifyLog(q: Query, opts: VerifyLogOptions): Promise<LogReport | undefined> {
  const exists = (await q<{ t: string | null }>(`select to_regclass('ledger_tiles')::text as t`))[0]?.t
  if (!exists) return undefined
  const problems: LogProblem[] = []
  const warnings: string[] = []
  const max = opts.max ?? 50
  const add = (p: LogProblem) => {
    if (problems.length < max) problems.push(p)
  }
  const size = Number((await q<{ size: string | number }>('select size from ledger_log where id = 1'))[0]?.size ?? 0)
  // The tiles and the orphan query are read beside the leaf pass (on the caller's other
  // connections to the same snapshot).
  const tilesRead = readAllTiles(q)
  const orphansRead = readOrphans(q)
  for (const p of [tilesRead, orphansRead]) p.catch(() => {}) // awaited below

  // Leaves against today's entries.
  let leaves = 0
  let skippedPruned = 0
  const onPruned = (pruned: PrunedLeaf[]) => {
    for (const { index, seq, stored } of pruned) {
      const archived = opts.archived(seq, index)
      if (archived === 'unreadable') {
        skippedPruned++
        continue
      }
      if (!archived) {
        add({ kind: 'tile', seq, message: `event seq ${seq} (leaf ${index}) was deleted: the log still holds its leaf` })
        continue
      }
      if (archived.leaf_index !== undefined && archived.leaf_index !== index) add({ kind: 'archive', seq, message: `archived event seq ${seq} says leaf ${archived.leaf_index}, but the log has it at leaf ${index}` })
      leaves++
      if (!leafHash(eventEntry({ ...archived, created_at: new Date(archived.created_at) })).equals(stored)) {
        add({ kind: 'tile', seq, ...(archived.guid ? { guid: archived.guid } : {}), message: `event seq ${seq} (leaf ${index}, archived) was changed after it was logged: it no longer hashes to its leaf` })
      }
    }
  }
  const archivedSeqs = opts.archivedSeqs ?? new Float64Array()
  const shared = opts.parallel && size >= opts.parallel.minLeaves ? opts.parallel : undefined
  const scanning = shared
    ? scanLeavesInWorkers({ ...shared, size, archivedSeqs, max, add, onPruned })
    : // On this thread the pass needs the tiles; two batches ahead, over the caller's connections.
      tilesRead.then((t) => scanLeaves({ q, from: 0, to: size, level0: (i) => t.get(`0/${i}`), archivedSeqs, readAhead: 2, add, onPruned }))
  // Tiles above level 0 against the full tiles below them (a million node hashes at 1M leaves),
  // on this thread while the workers hash the leaves.
  const tileProblems = tilesRead.then(checkTileLevels)
  tileProblems.catch(() => {}) // awaited below
  // Awaited before adding: onPruned counts the archived leaves into `leaves` meanwhile.
  const scanned = await scanning
  leaves += scanned
  const tiles = await tilesRead
  if (skippedPruned) warnings.push(`${skippedPruned} leaves belong to events in archive segments that could not be read; their entries were not checked`)

  // Events the log should hold but does not: unchained (written after the chain ended) and behind
  // the integrator's cursor, so no pass will take them. Those ahead of it are pending.
  const orphans = await orphansRead
  if (orphans) {
    for (const o of orphans.filter((o) => o.behind)) {
      add({ kind: 'inserted', seq: Number(o.seq), guid: o.guid, message: `event seq ${Number(o.seq)} (guid ${o.guid}) is not in the log and sorts behind what the integrator has taken: it was inserted afterwards, not written by the server` })
    }
    const pending = orphans.filter((o) => !o.behind).length
    if (pending) warnings.push(`${pending} event(s) are not in the log yet (committed after the integrator's last pass, or still below the oldest running transaction)`)
  }

  for (const p of await tileProblems) add(p)

  // Checkpoints: the signature, and the root the tiles give for their size.
  const seed = (await q<{ value: string }>(`select value from ledger_keys where name = 'ledger-log-key-seed'`))[0]?.value
  const cps = await q<{ size: string | number; note: string }>('select size, note from ledger_log_checkpoints order by size')
  const read = tileReader(async () => tiles)
  for (const c of cps) {
    const n = Number(c.size)
    try {
      const origin = parseNote(c.note).text.split('\n')[0]!
      openNote(c.note, trustedFor(origin, seed, opts.logKey))
      const body = parseCheckpointText(parseNote(c.note).text)
      if (body.size !== n) throw new Error(`it says size ${body.size}`)
      let root
      try {
        root = await treeRoot(n, read)
      } catch {
        root = undefined
      }
      if (!root || !root.equals(body.root)) add({ kind: 'tile', message: `the tiles no longer hash to the root of the log checkpoint of size ${n}: the tree was rewritten after it was signed` })
    } catch (err) {
      add({ kind: 'tile', message: `the log checkpoint of size ${n} does not verify: ${(err as Error).message}` })
    }
  }
  return { problems, warnings, leaves, tiles: tiles.size, checkpoints: cps.length }
}

/** Every hash of a tile above level 0 against the root of the full tile it stands for. */
function checkTileLevels(tiles: Map<string, Buffer>): LogProblem[] {
  const problems: LogProblem[] = []
  for (const [key, tile] of tiles) {
    const [level, index] = key.split('/').map(Number) as [number, number]
    if (level === 0) continue
    for (let i = 0; i < tile.length / 32; i++) {
      const below = tiles.get(`${level - 1}/${index * TILE_WIDTH + i}`)
      if (!below || below.length !== TILE_WIDTH * 32 || !tileRoot(below).equals(hashAt(tile, i))) {
        problems.push({ kind: 'tile', message: `tile ${level}/${index} hash ${i} does not match tile ${level - 1}/${index * TILE_WIDTH + i}: a tile was rewritten` })
        break
      }
    }
  }
  return problems
}

async function readAllTiles(q: Query): Promise<Map<string, Buffer>> {
  const tiles = new Map<string, Buffer>()
  for (const t of await q<{ level: number; idx: string | number; hashes: Buffer | Uint8Array }>('select level, idx, hashes from ledger_tiles')) {
    tiles.set(`${t.level}/${Number(t.idx)}`, bytes(t.hashes))
  }
  return tiles
}

/** Events without a leaf, each marked whether it sorts behind the integrator's cursor; undefined without a log state. */
async function readOrphans(q: Query): Promise<{ seq: string | number; guid: string; behind: boolean }[] | undefined> {
  const state = (await q<{ legacy_seq: string | number; cursor_xid: string; cursor_seq: string | number }>('select legacy_seq, cursor_xid::text as cursor_xid, cursor_seq from ledger_log where id = 1'))[0]
  if (!state) return undefined
  return q<{ seq: string | number; guid: string; behind: boolean }>(
    `select e.seq, e.guid, (case when e.xid is null then e.seq <= $1 else (e.xid, e.seq) <= ($2::xid8, $3::bigint) end) as behind
     from events e where e.hash is null and not exists (select 1 from ledger_leaves l where l.event_seq = e.seq) order by e.seq`,
    [state.legacy_seq, state.cursor_xid, state.cursor_seq],
  )
}

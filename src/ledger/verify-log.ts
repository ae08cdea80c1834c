// The ledger log part of `cf-ledger verify` (database access): every leaf against the entry its
// event or task run gives today, every tile above level 0 against the tiles below it, and every
// signed checkpoint's signature and root against the tiles. Names the first event whose entry
// changed after it was logged, and any tile or checkpoint that was rewritten.
import { parseCheckpointText } from './checkpoint.ts'
import { eventEntry, type EventFields } from './leaf.ts'
import { leafHash, treeRoot } from './merkle.ts'
import { openNote, parseNote, parseSkey, signerFromSeed, type Verifier } from './note.ts'
import { hashAt, tileReader, tileRoot, TILE_WIDTH } from './tiles.ts'

export type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>

export interface LogProblem {
  readonly kind: 'tile' | 'duplicated' | 'archive' | 'inserted'
  readonly seq?: number
  readonly guid?: string
  readonly message: string
}

export interface LogReport {
  readonly problems: LogProblem[]
  readonly warnings: string[]
  readonly leaves: number
  readonly tiles: number
  readonly checkpoints: number
}

const BATCH = 10_000
const READ_AHEAD = 2
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

export async function verifyLog(q: Query, opts: { archived: ArchivedLookup; logKey?: string; max?: number }): Promise<LogReport | undefined> {
  const exists = (await q<{ t: string | null }>(`select to_regclass('ledger_tiles')::text as t`))[0]?.t
  if (!exists) return undefined
  const problems: LogProblem[] = []
  const warnings: string[] = []
  const max = opts.max ?? 50
  const add = (p: LogProblem) => {
    if (problems.length < max) problems.push(p)
  }
  const size = Number((await q<{ size: string | number }>('select size from ledger_log where id = 1'))[0]?.size ?? 0)
  const tiles = new Map<string, Buffer>()
  for (const t of await q<{ level: number; idx: string | number; hashes: Buffer | Uint8Array }>('select level, idx, hashes from ledger_tiles')) {
    tiles.set(`${t.level}/${Number(t.idx)}`, bytes(t.hashes))
  }

  // Leaves against today's entries.
  let leaves = 0
  let skippedPruned = 0
  type LeafRow = EventFields & { leaf_index: string | number; event_seq: string | number | null; seq: number | string | null; created_at: Date | string; task_entry: Buffer | Uint8Array | null }
  const batch = (from: number) =>
    q<LeafRow>(
      `select l.leaf_index, l.event_seq, e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name, e.actor_username,
        e.actee, e.actee_type, e.actee_name, e.metadata, e.space_guid, e.organization_guid, coalesce(t.entry, c.entry) as task_entry
       from ledger_leaves l left join events e on e.seq = l.event_seq left join ledger_task_runs t on t.task_guid = l.task_guid
         left join collected_events c on c.id = l.collected_event_id
       where l.leaf_index >= $1 and l.leaf_index < $2 order by l.leaf_index`,
      [from, Math.min(size, from + BATCH)],
    )
  // The next batches are read (on their own connections, where the caller has a pool) while this
  // one is hashed: reading is the slower side, so two in flight keep the hashing busy.
  const pending = new Map<number, ReturnType<typeof batch>>()
  for (let from = 0; from < size; from += BATCH) {
    for (let f = from; f < Math.min(size, from + READ_AHEAD * BATCH); f += BATCH) {
      if (pending.has(f)) continue
      const read = batch(f)
      // A read-ahead that fails while an earlier batch is being awaited must not go unhandled:
      // its error surfaces when its own turn comes (or not at all, if an earlier one threw).
      read.catch(() => undefined)
      pending.set(f, read)
    }
    const rows = await pending.get(from)!
    pending.delete(from)
    let expected = from
    for (const r of rows) {
      const index = Number(r.leaf_index)
      if (index !== expected) add({ kind: 'tile', message: `leaf ${expected} has no record in ledger_leaves: the leaf index was deleted` })
      expected = index + 1
      const tile = tiles.get(`0/${Math.floor(index / TILE_WIDTH)}`)
      const stored = tile && tile.length >= (index % TILE_WIDTH + 1) * 32 ? hashAt(tile, index % TILE_WIDTH) : undefined
      if (!stored) {
        add({ kind: 'tile', message: `leaf ${index} is missing from its level-0 tile` })
        continue
      }
      let entry: Buffer
      let where = ''
      if (r.task_entry) entry = bytes(r.task_entry)
      else if (r.seq !== null) {
        entry = eventEntry({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) })
        if (typeof opts.archived(Number(r.seq), index) === 'object') add({ kind: 'duplicated', seq: Number(r.seq), guid: r.guid, message: `event seq ${Number(r.seq)} (guid ${r.guid}) is both archived and still in the table` })
      } else {
        const seq = Number(r.event_seq)
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
        entry = eventEntry({ ...archived, created_at: new Date(archived.created_at) })
        where = ', archived'
      }
      leaves++
      if (!leafHash(entry).equals(stored)) {
        const seq = r.seq ?? r.event_seq
        const what = r.task_entry ? `the task run record of leaf ${index}` : `event seq ${Number(seq)} (leaf ${index}${where})`
        add({ kind: 'tile', ...(seq !== null ? { seq: Number(seq) } : {}), ...(r.guid ? { guid: r.guid } : {}), message: `${what} was changed after it was logged: it no longer hashes to its leaf` })
      }
    }
  }
  if (skippedPruned) warnings.push(`${skippedPruned} leaves belong to events in archive segments that could not be read; their entries were not checked`)

  // Events the log should hold but does not: unchained (written after the chain ended) and behind
  // the integrator's cursor, so no pass will take them. Those ahead of it are pending.
  const state = (await q<{ legacy_seq: string | number; cursor_xid: string; cursor_seq: string | number }>('select legacy_seq, cursor_xid::text as cursor_xid, cursor_seq from ledger_log where id = 1'))[0]
  if (state) {
    const orphans = await q<{ seq: string | number; guid: string; behind: boolean }>(
      `select e.seq, e.guid, (case when e.xid is null then e.seq <= $1 else (e.xid, e.seq) <= ($2::xid8, $3::bigint) end) as behind
       from events e where e.hash is null and not exists (select 1 from ledger_leaves l where l.event_seq = e.seq) order by e.seq`,
      [state.legacy_seq, state.cursor_xid, state.cursor_seq],
    )
    for (const o of orphans.filter((o) => o.behind)) {
      add({ kind: 'inserted', seq: Number(o.seq), guid: o.guid, message: `event seq ${Number(o.seq)} (guid ${o.guid}) is not in the log and sorts behind what the integrator has taken: it was inserted afterwards, not written by the server` })
    }
    const pending = orphans.filter((o) => !o.behind).length
    if (pending) warnings.push(`${pending} event(s) are not in the log yet (committed after the integrator's last pass, or still below the oldest running transaction)`)
  }

  // Tiles above level 0 against the full tiles below them.
  for (const [key, tile] of tiles) {
    const [level, index] = key.split('/').map(Number) as [number, number]
    if (level === 0) continue
    for (let i = 0; i < tile.length / 32; i++) {
      const below = tiles.get(`${level - 1}/${index * TILE_WIDTH + i}`)
      if (!below || below.length !== TILE_WIDTH * 32 || !tileRoot(below).equals(hashAt(tile, i))) {
        add({ kind: 'tile', message: `tile ${level}/${index} hash ${i} does not match tile ${level - 1}/${index * TILE_WIDTH + i}: a tile was rewritten` })
        break
      }
    }
  }

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

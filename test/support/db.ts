// Direct access to a test server's database, for assertions HTTP cannot make (audit events, the
// ledger). PostgreSQL is read while the server runs; the embedded store is a PGlite data
// directory that only one process may open, so it is read after the server has stopped.
import type { EventFields } from '../../src/audit/chain-format.ts'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { eventHash, GENESIS_HASH } from '../../src/audit/chain.ts'
import { eventEntry } from '../../src/ledger/leaf.ts'
import { leafHash } from '../../src/ledger/merkle.ts'
import { hashAt, TILE_WIDTH } from '../../src/ledger/tiles.ts'
import { until } from './wait.ts'
import type { TestServer } from './server.ts'

export type Query = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>

/**
 * Runs `fn` with a query function on the server's store. For the embedded store the server is
 * stopped first (SIGTERM); restart it with `server.restart()` if the test goes on.
 */
export async function withStore<R>(server: TestServer, fn: (q: Query) => Promise<R>): Promise<R> {
  if (server.store === 'postgres') {
    const client = new pg.Client({ connectionString: server.databaseUrl })
    await client.connect()
    try {
      return await fn(async (text, params) => (await client.query(text, params)).rows)
    } finally {
      await client.end()
    }
  }
  await server.stop()
  const db = await PGlite.create(path.join(server.dataDir, 'pg'))
  try {
    return await fn(async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows)
  } finally {
    await db.close()
  }
}

export interface EventRow extends EventFields {
  metadata: Record<string, unknown>
  /** Null for events written since appends stopped chaining (migration 0017). */
  prev_hash: string | null
  hash: string | null
}

/** Every audit event in sequence order. */
export async function readEvents(q: Query): Promise<EventRow[]> {
  const rows = await q<EventRow>('select * from events order by seq')
  return rows.map((r) => ({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }))
}

/**
 * Checks the ledger over `events` (all of them, in seq order): the hash chain for the events
 * written before appends stopped chaining (migration 0017), gap-free from seq 1 and ending at
 * the ledger head; and every event exactly one leaf of the Merkle log whose tile hash is the
 * hash of the entry recomputed from the row. Waits up to `waitMs` for the integrator to take
 * events that are not leaves yet. Returns the problems found (empty when intact).
 */
export async function ledgerProblems(q: Query, events: readonly EventRow[], waitMs = 15_000): Promise<string[]> {
  const problems: string[] = []
  const chained = events.filter((e) => e.hash !== null)
  let prev = GENESIS_HASH
  chained.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`chained seq ${e.seq} at position ${i + 1}`)
    if (e.prev_hash !== prev) problems.push(`seq ${e.seq}: prev_hash does not match the previous event`)
    if (e.hash !== eventHash(prev, e)) problems.push(`seq ${e.seq}: hash mismatch`)
    prev = e.hash!
  })
  if (events.slice(chained.length).some((e) => e.hash !== null)) problems.push('a chained event after an unchained one')
  const [head] = await q<{ seq: number | string; hash: string }>('select seq, hash from ledger_head where id = 1')
  if (Number(head?.seq) !== chained.length || head?.hash !== prev) problems.push('ledger head does not point at the last chained event')

  const seqs = events.map((e) => e.seq)
  const leaves = await until('every event to be a leaf', async () => {
    const rows = await q<{ leaf_index: string | number; event_seq: string | number }>(
      'select leaf_index, event_seq from ledger_leaves where event_seq = any($1::bigint[]) order by leaf_index',
      [seqs],
    )
    return rows.length >= events.length ? rows : undefined
  }, waitMs).catch(() => undefined)
  if (!leaves) return [...problems, 'not every event became a leaf of the log in time']
  const bySeq = new Map<number, number>()
  for (const l of leaves) {
    if (bySeq.has(Number(l.event_seq))) problems.push(`seq ${l.event_seq} is more than one leaf`)
    bySeq.set(Number(l.event_seq), Number(l.leaf_index))
  }
  const tiles = new Map<number, Buffer>()
  for (const t of await q<{ idx: string | number; hashes: Uint8Array }>('select idx, hashes from ledger_tiles where level = 0')) {
    tiles.set(Number(t.idx), Buffer.from(t.hashes))
  }
  for (const e of events) {
    const index = bySeq.get(e.seq)
    if (index === undefined) {
      problems.push(`seq ${e.seq} is not a leaf`)
      continue
    }
    const tile = tiles.get(Math.floor(index / TILE_WIDTH))
    const stored = tile && tile.length >= ((index % TILE_WIDTH) + 1) * 32 ? hashAt(tile, index % TILE_WIDTH) : undefined
    if (!stored || !stored.equals(leafHash(eventEntry(e)))) problems.push(`seq ${e.seq}: leaf ${index} does not hash its entry`)
  }
  return problems
}

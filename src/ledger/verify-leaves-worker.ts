// One worker of the parallel leaf pass (verify-leaves-pool.ts): its range of leaves, read on its
// own connection in the caller's snapshot.
import { parentPort, workerData } from 'node:worker_threads'
import pg from 'pg'
import { joinSnapshot } from '../cli/snapshot-query.ts'
import { isoMillis } from '../store/pg-time.ts'
import { scanLeaves, type LogProblem } from './verify-leaves.ts'
import type { LeafWorkerData, LeafWorkerMessage } from './verify-leaves-pool.ts'
import { TILE_WIDTH } from './tiles.ts'

const data = workerData as LeafWorkerData
const post = (m: LeafWorkerMessage) => parentPort!.postMessage(m)
const client = await joinSnapshot(data.databaseUrl, data.snapshot)
try {
  // Rows as the entry wants them, with no Date and no copy between (a million rows): created_at
  // straight from PostgreSQL's UTC text to the entry's ISO form, seqs and indices as numbers.
  await client.query(`set time zone 'UTC'`)
  client.setTypeParser(pg.types.builtins.TIMESTAMPTZ, isoMillis)
  client.setTypeParser(pg.types.builtins.INT8, Number)
  const q = async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[]
  const tiles = new Map<number, Uint8Array>()
  const tileRows = await q<{ idx: string | number; hashes: Uint8Array }>('select idx, hashes from ledger_tiles where level = 0 and idx >= $1 and idx <= $2', [
    Math.floor(data.from / TILE_WIDTH),
    Math.floor((data.to - 1) / TILE_WIDTH),
  ])
  for (const t of tileRows) tiles.set(Number(t.idx), t.hashes)
  const problems: LogProblem[] = []
  const leaves = await scanLeaves({
    q,
    from: data.from,
    to: data.to,
    level0: (i) => tiles.get(i),
    archivedSeqs: data.archivedSeqs,
    // One connection: the next batch's query waits in its queue and runs while this one is hashed.
    readAhead: 1,
    batch: data.batch,
    add: (p) => {
      if (problems.length < data.max) problems.push(p)
    },
    // Each hash as its own 32 bytes: a clone of a view copies the whole tile it points into.
    onPruned: (leaves) => post({ pruned: leaves.map((l) => ({ ...l, stored: new Uint8Array(l.stored) })) }),
  })
  post({ done: { leaves, problems } })
} finally {
  await client.end()
}

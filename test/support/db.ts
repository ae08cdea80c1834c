// Direct access to a test server's database, for assertions HTTP cannot make (audit events, the
// hash chain). PostgreSQL is read while the server runs; the embedded store is a PGlite data
// directory that only one process may open, so it is read after the server has stopped.
import type { EventFields } from '../../src/audit/chain-format.ts'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { eventHash, GENESIS_HASH } from '../../src/audit/chain.ts'
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
  prev_hash: string
  hash: string
}

/** Every audit event in sequence order. */
export async function readEvents(q: Query): Promise<EventRow[]> {
  const rows = await q<EventRow>('select * from events order by seq')
  return rows.map((r) => ({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }))
}

/**
 * Recomputes the hash chain from the genesis hash; returns the problems found (empty when the
 * chain is intact, gap-free from seq 1 and ends at the ledger head).
 */
export async function chainProblems(q: Query, events: readonly EventRow[]): Promise<string[]> {
  const problems: string[] = []
  let prev = GENESIS_HASH
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`seq ${e.seq} at position ${i + 1}`)
    if (e.prev_hash !== prev) problems.push(`seq ${e.seq}: prev_hash does not match the previous event`)
    const h = eventHash(prev, e)
    if (e.hash !== h) problems.push(`seq ${e.seq}: hash mismatch`)
    prev = e.hash
  })
  const [head] = await q<{ seq: number | string; hash: string }>('select seq, hash from ledger_head where id = 1')
  if (Number(head?.seq) !== events.length || head?.hash !== prev) problems.push('ledger head does not point at the last event')
  return problems
}

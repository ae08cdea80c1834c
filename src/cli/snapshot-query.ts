// What `cf-ledger verify` reads PostgreSQL through: several connections that all see one
// snapshot, as pg_dump's parallel mode does. The first opens a read-only repeatable-read
// transaction and exports its snapshot; the others adopt it (SET TRANSACTION SNAPSHOT), so
// reading on all of them at once is the same as reading on one while the server keeps writing.
import pg from 'pg'
import type { Query } from '../audit/verify-report.ts'

export interface SnapshotQuery {
  readonly q: Query
  /** The exported snapshot, for more connections (verify's leaf workers) to adopt while this is open. */
  readonly snapshot: string
  close(): Promise<void>
}

const BEGIN = 'begin isolation level repeatable read read only'

async function connect(databaseUrl: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: databaseUrl, application_name: 'cf-ledger verify' })
  await c.connect()
  return c
}

/** Adds the client (connected by `connect`) to an exported snapshot: it then reads exactly what its exporter reads. */
async function adopt(c: pg.Client, snapshot: string): Promise<void> {
  await c.query(BEGIN)
  await c.query(`set transaction snapshot '${snapshot.replace(/'/g, "''")}'`)
}

/** One more connection in a snapshot another connection exported and keeps open (verify's leaf workers). */
export async function joinSnapshot(databaseUrl: string, snapshot: string): Promise<pg.Client> {
  const c = await connect(databaseUrl)
  try {
    await adopt(c, snapshot)
  } catch (err) {
    await c.end().catch(() => {})
    throw err
  }
  return c
}

export async function openSnapshotQuery(databaseUrl: string, connections = 2): Promise<SnapshotQuery> {
  const clients: pg.Client[] = []
  let snapshot: string
  try {
    const first = await connect(databaseUrl)
    clients.push(first)
    await first.query(BEGIN)
    snapshot = (await first.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]!.id
    for (let i = 1; i < connections; i++) {
      const c = await connect(databaseUrl)
      clients.push(c)
      await adopt(c, snapshot)
    }
  } catch (err) {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    throw err
  }
  // Each query goes to the connection with the fewest in flight.
  const inFlight = clients.map(() => 0)
  const q: Query = async (text, params) => {
    const i = inFlight.indexOf(Math.min(...inFlight))
    inFlight[i]!++
    try {
      return (await clients[i]!.query(text, params as unknown[])).rows
    } finally {
      inFlight[i]!--
    }
  }
  return { q, snapshot, close: async () => void (await Promise.all(clients.map((c) => c.end().catch(() => {})))) }
}

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

export async function openSnapshotQuery(databaseUrl: string, connections = 2): Promise<SnapshotQuery> {
  const open = async () => {
    const c = new pg.Client({ connectionString: databaseUrl, application_name: 'cf-ledger verify' })
    await c.connect()
    return c
  }
  const clients: pg.Client[] = []
  let snapshot: string
  try {
    const first = await open()
    clients.push(first)
    await first.query(BEGIN)
    snapshot = (await first.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]!.id
    for (let i = 1; i < connections; i++) {
      const c = await open()
      clients.push(c)
      await c.query(BEGIN)
      await c.query(`set transaction snapshot '${snapshot.replace(/'/g, "''")}'`)
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

// The write side of the ledger, through real servers on one PostgreSQL (part of `npm run bench --
// ledger`): task creations per second with their audit events at 16 callers, through one server
// and through three, next to the raw SQL of the same transaction measured in the same run (with
// the ledger head's row lock, as the server wrote it before migration 0017, and without it, as now); and the latency
// from a creation's commit (its 202) to the signing of the first checkpoint that covers its event.
import crypto from 'node:crypto'
import pg from 'pg'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { LoadClient } from './load-client.ts'
import { pushApp } from '../test/support/push.ts'
import { freshStore, startServer, type TestServer } from '../test/support/server.ts'
import { summarize, type Summary } from './stats.ts'

const CALLERS = 16
const POOL = 10 // the server's pool size

export interface WriteResults {
  readonly oneServer: number
  readonly threeServers: number
  readonly rawLocked: number
  readonly rawUnlocked: number
  readonly commitToCheckpoint: { readonly one: Summary; readonly three: Summary }
}

/** Creates tasks for `seconds` with 16 callers spread over `apis`, each caller on its own app (the app row lock is per app). */
async function createFor(apis: readonly Api[], apps: readonly string[], seconds: number): Promise<{ count: number; acked: Map<string, number> }> {
  const acked = new Map<string, number>()
  const deadline = Date.now() + seconds * 1000
  const clients = apis.map((api) => new LoadClient(api.url, api.token!, CALLERS))
  try {
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, i) => {
        const client = clients[i % clients.length]!
        while (Date.now() < deadline) {
          const r = expectOk(await client.post(`/v3/apps/${apps[i]}/tasks`, { command: 'true' }), 202)
          acked.set(r.body.guid as string, Date.now())
        }
      }),
    )
  } finally {
    for (const c of clients) c.close()
  }
  return { count: acked.size, acked }
}

/**
 * For each acknowledged task, ack → the signing of the first checkpoint that covers its create
 * event's leaf (its `signed_at`, on the same machine's clock). Read from the database afterwards,
 * so that no poller adds requests to the load being measured.
 */
async function latencies(db: pg.Client, acked: Map<string, number>): Promise<Summary> {
  const rows = (
    await db.query<{ task_guid: string; covered_at: Date | null }>(
      `select e.metadata->>'task_guid' as task_guid,
         (select min(c.signed_at) from ledger_log_checkpoints c where c.size > l.leaf_index) as covered_at
       from events e join ledger_leaves l on l.event_seq = e.seq
       where e.type = 'audit.app.task.create' and e.metadata->>'task_guid' = any($1)`,
      [[...acked.keys()]],
    )
  ).rows
  const out: number[] = []
  for (const r of rows) if (r.covered_at) out.push(r.covered_at.getTime() - acked.get(r.task_guid)!)
  if (out.length < acked.size) console.log(`  (${acked.size - out.length} of ${acked.size} creations not yet covered by a checkpoint)`)
  return summarize(out)
}

/** The server's task-creation transaction as raw SQL: app row lock, task insert, event (chained under the head lock as before migration 0017, or from a sequence as now). */
async function rawSql(url: string, seconds: number, headLock: boolean): Promise<number> {
  const setup = new pg.Client({ connectionString: url })
  await setup.connect()
  await setup.query(`create table if not exists bench_apps (id int primary key, max_seq int not null);
    insert into bench_apps select g, 0 from generate_series(0, ${CALLERS - 1}) g on conflict do nothing;
    create table if not exists bench_tasks (guid text primary key, app int, sequence_id int, command text, state text, created_at timestamptz);
    create sequence if not exists bench_events_seq;
    create table if not exists bench_events (seq bigint primary key, guid text, type text, metadata jsonb, prev_hash text, hash text);
    create table if not exists bench_head (id int primary key, seq bigint, hash text);
    insert into bench_head values (1, (select coalesce(max(seq), 0) from bench_events), '') on conflict (id) do update set seq = excluded.seq`)
  await setup.end()
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  const deadline = Date.now() + seconds * 1000
  let count = 0
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, app) => {
      while (Date.now() < deadline) {
        const c = await pool.connect()
        try {
          await c.query('begin')
          const seqId = Number((await c.query('select max_seq from bench_apps where id = $1 for update', [app])).rows[0].max_seq) + 1
          await c.query('update bench_apps set max_seq = $1 where id = $2', [seqId, app])
          const guid = crypto.randomUUID()
          await c.query(`insert into bench_tasks values ($1, $2, $3, 'true', 'PENDING', now())`, [guid, app, seqId])
          const metadata = JSON.stringify({ task_guid: guid })
          if (headLock) {
            const head = (await c.query('select seq, hash from bench_head where id = 1 for update')).rows[0]
            const seq = Number(head.seq) + 1
            const hash = crypto.createHash('sha256').update(head.hash).update('\n').update(metadata).digest('hex')
            await c.query(`insert into bench_events values ($1, $2, 'audit.app.task.create', $3, $4, $5)`, [seq, crypto.randomUUID(), metadata, head.hash, hash])
            await c.query('update bench_head set seq = $1, hash = $2 where id = 1', [seq, hash])
          } else {
            await c.query(`insert into bench_events values (nextval('bench_events_seq') + 1000000000, $1, 'audit.app.task.create', $2, null, null)`, [crypto.randomUUID(), metadata])
          }
          await c.query('commit')
          count++
        } finally {
          c.release()
        }
      }
    }),
  )
  await pool.end()
  return count / seconds
}

/** Needs TEST_DATABASE_URL (a PostgreSQL cluster's admin URL) set. */
export async function measureWrites(seconds: number): Promise<WriteResults> {
  const fresh = await freshStore('postgres')
  const env = { CF_LEDGER_TASK_CONCURRENCY: '1', CF_LEDGER_TASK_SANDBOX: 'none' }
  const servers: TestServer[] = []
  const start = async (i: number) => (servers[i] = await startServer('postgres', { env: { ...env, CF_LEDGER_NODE_ID: `bench-${i}` }, databaseUrl: fresh.databaseUrl, dataDir: `${fresh.dataDir}-${i}` }))
  const db = new pg.Client({ connectionString: fresh.databaseUrl })
  try {
    await db.connect()
    // The seeded log's dirty pages written out first, so the checkpointer's flush is not in the
    // phases' numbers (a write rate after a bulk load is not a steady state).
    await db.query('checkpoint')
    await start(0)
    const admin = await new Api(servers[0]!.url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'bench', 'bench')
    const apps: string[] = []
    for (let i = 0; i < CALLERS; i++) apps.push(await pushApp(admin, spaceGuid, `bench-${i}`))
    await createFor([admin], apps, 4) // warm up, as long as the three servers below

    const one = await createFor([admin], apps, seconds)
    await new Promise((r) => setTimeout(r, 2500)) // the last creations' checkpoint
    const latencyOne = await latencies(db, one.acked)

    await Promise.all([start(1), start(2)])
    const apis = await Promise.all(servers.map((s) => new Api(s.url).admin()))
    // As warm as the first server was: JIT, pools, prepared statements, the code cache written 3 s after start.
    await createFor(apis, apps, 4)
    const three = await createFor(apis, apps, seconds)
    await new Promise((r) => setTimeout(r, 2500))
    const latencyThree = await latencies(db, three.acked)

    const rawLocked = await rawSql(fresh.databaseUrl!, seconds, true)
    const rawUnlocked = await rawSql(fresh.databaseUrl!, seconds, false)
    return {
      oneServer: one.count / seconds,
      threeServers: three.count / seconds,
      rawLocked,
      rawUnlocked,
      commitToCheckpoint: { one: latencyOne, three: latencyThree },
    }
  } finally {
    await db.end().catch(() => {})
    await Promise.all(servers.map((s) => s.stop()))
  }
}

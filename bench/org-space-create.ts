// Org and space creation through the real HTTP server (each with its audit event appended to the
// hash chain), next to the raw cost of the same SQL run directly against a fresh store of the same
// kind, in the same run.
//   npm run bench -- org-space [--n 500] [--concurrency 16] [--stores postgres,embedded] [--port 55500]
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CompiledQuery } from 'kysely'
import pg from 'pg'
import { openStore } from '../src/store/store.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, expectOk } from '../test/support/client.ts'
import { freshStore, startServer, type StoreKind } from '../test/support/server.ts'
import { ms, now, summarize, table, type Summary } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ n: '500', concurrency: '16', stores: 'postgres,embedded', port: '55500' })
const N = args.num('n')
const CONCURRENCY = args.num('concurrency')
const STORES = args.list('stores') as StoreKind[]
const PORT = args.num('port')
const WARMUP = 20
if (!(N > 0 && N <= 100_000 && CONCURRENCY > 0 && CONCURRENCY <= 256)) throw new Error('--n must be 1..100000 and --concurrency 1..256')

interface Result {
  readonly perSecond: number
  readonly latency: Summary
}

/** Runs `op(i)` for i in [0, n) with `concurrency` callers; per-call latency and overall rate. */
async function measure(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<Result> {
  const samples: number[] = []
  let next = 0
  const t0 = now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++
        const t = now()
        await op(i)
        samples.push(ms(now() - t))
      }
    }),
  )
  return { perSecond: n / (ms(now() - t0) / 1000), latency: summarize(samples) }
}

async function throughHttp(store: StoreKind, n: number, concurrency: number) {
  const server = await startServer(store)
  try {
    const admin = await new Api(server.url).admin()
    const run = crypto.randomUUID().slice(0, 8)
    for (let i = 0; i < WARMUP; i++) expectOk(await admin.post('/v3/organizations', { name: `warm-${run}-${i}` }), 201)
    const orgGuids: string[] = []
    const orgs = await measure(n, concurrency, async (i) => {
      orgGuids.push(expectOk(await admin.post('/v3/organizations', { name: `org-${run}-${i}` }), 201).body.guid)
    })
    const spaces = await measure(n, concurrency, async (i) => {
      const org = orgGuids[i % orgGuids.length]!
      expectOk(await admin.post('/v3/spaces', { name: `space-${i}`, relationships: { organization: { data: { guid: org } } } }), 201)
    })
    return { orgs, spaces }
  } finally {
    await server.stop()
  }
}

/** Runs a list of statements in one transaction. */
type Exec = (text: string, params: readonly unknown[]) => Promise<{ rows: Record<string, unknown>[] }>
type Transact = (work: (exec: Exec) => Promise<void>) => Promise<void>

const ACTOR = { guid: crypto.randomUUID(), type: 'user', name: 'admin@example.com', username: 'admin' }

/** The statements the server runs for a creation: the row, then its event (src/audit/ledger.ts). */
async function appendEvent(exec: Exec, type: string, actee: { guid: string; type: string; name: string }, orgGuid: string, spaceGuid: string, request: unknown) {
  await exec(
    `insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name,
      metadata, space_guid, organization_guid) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)`,
    [crypto.randomUUID(), new Date(), type, ACTOR.guid, ACTOR.type, ACTOR.name, ACTOR.username, actee.guid, actee.type, actee.name,
      JSON.stringify({ request }), spaceGuid, orgGuid],
  )
}

async function rawSql(transact: Transact, n: number, concurrency: number) {
  const run = crypto.randomUUID().slice(0, 8)
  const orgGuids: string[] = []
  const createOrg = (name: string) =>
    transact(async (exec) => {
      const guid = crypto.randomUUID()
      const t = new Date()
      await exec(
        `insert into organizations (guid, name, suspended, quota_guid, created_at, updated_at, labels, annotations) values ($1, $2, false, null, $3, $3, '{}', '{}')`,
        [guid, name, t],
      )
      await appendEvent(exec, 'audit.organization.create', { guid, type: 'organization', name }, guid, '', { name })
      orgGuids.push(guid)
    })
  for (let i = 0; i < WARMUP; i++) await createOrg(`warm-${run}-${i}`)
  orgGuids.length = 0
  const orgs = await measure(n, concurrency, (i) => createOrg(`org-${run}-${i}`))
  const spaces = await measure(n, concurrency, (i) =>
    transact(async (exec) => {
      const guid = crypto.randomUUID()
      const org = orgGuids[i % orgGuids.length]!
      const name = `space-${i}`
      const t = new Date()
      await exec(
        `insert into spaces (guid, name, organization_guid, quota_guid, created_at, updated_at, labels, annotations) values ($1, $2, $3, null, $4, $4, '{}', '{}')`,
        [guid, name, org, t],
      )
      await appendEvent(exec, 'audit.space.create', { guid, type: 'space', name }, org, guid, {
        name,
        relationships: { organization: { data: { guid: org } } },
      })
    }),
  )
  return { orgs, spaces }
}

/** A fresh, migrated store of the given kind and a way to run transactions on it directly. */
async function rawStore(store: StoreKind): Promise<{ transact: Transact; close(): Promise<void> }> {
  const fresh = await freshStore(store)
  const migrated = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
  if (store === 'postgres') {
    await migrated.close()
    const pool = new pg.Pool({ connectionString: fresh.databaseUrl, max: 10 }) // the server's pool size
    return {
      async transact(work) {
        const c = await pool.connect()
        try {
          await c.query('begin')
          await work((text, params) => c.query(text, [...params]))
          await c.query('commit')
        } catch (err) {
          await c.query('rollback')
          throw err
        } finally {
          c.release()
        }
      },
      close: () => pool.end(),
    }
  }
  const { db } = migrated
  return {
    transact: (work) =>
      db.transaction().execute((tx) =>
        work(async (text, params) => ({ rows: (await tx.executeQuery(CompiledQuery.raw(text, [...params]))).rows as Record<string, unknown>[] })),
      ),
    close: () => migrated.close(),
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-'))
process.env.CF_LEDGER_TEST_TMP = tmp
const cluster = STORES.includes('postgres') ? startCluster(path.join(os.tmpdir(), `cf-ledger-bench-pg-${PORT}`), PORT) : undefined
if (cluster) process.env.TEST_DATABASE_URL = cluster.url
try {
  const phases = [
    { n: Math.max(1, Math.floor(N / 4)), concurrency: 1 },
    { n: N, concurrency: CONCURRENCY },
  ]
  console.log(`\nOrg/space creation, each with its audit event: ${phases.map((p) => `${p.n} orgs then ${p.n} spaces with ${p.concurrency} caller(s)`).join('; ')}`)
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  const rows: (string | number)[][] = []
  for (const store of STORES) {
    for (const { n, concurrency } of phases) {
      const http = await throughHttp(store, n, concurrency)
      const raw = await rawStore(store)
      let sql
      try {
        sql = await rawSql(raw.transact, n, concurrency)
      } finally {
        await raw.close()
      }
      for (const kind of ['orgs', 'spaces'] as const) {
        const h = http[kind]
        const r = sql[kind]
        rows.push([`${store} ${kind} x${concurrency}`, h.perSecond, h.latency.p50, h.latency.p99, r.perSecond, r.latency.p50, r.latency.p99, h.perSecond / r.perSecond, h.latency.p50 / r.latency.p50])
      }
    }
  }
  table(['store, kind, callers', 'HTTP /s', 'HTTP p50 ms', 'HTTP p99 ms', 'raw /s', 'raw p50 ms', 'raw p99 ms', 'HTTP÷raw /s', 'HTTP÷raw p50'], rows)
} finally {
  cluster?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}

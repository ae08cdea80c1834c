// Trail-record latency for a task that printed 100k lines, next to the raw SQL reads the trail
// does (task row, its events, its output tail), in the same run.
//   node --import tsx bench/trail.ts [--lines 100000] [--n 200] [--stores postgres,embedded]
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp, waitForTask } from '../test/support/push.ts'
import { startServer, type StoreKind } from '../test/support/server.ts'
import { ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ lines: '100000', n: '200', stores: 'postgres,embedded' })
const LINES = args.num('lines')
const N = args.num('n')
const STORES = args.list('stores') as StoreKind[]

async function timeRequests(fn: () => Promise<unknown>, n: number) {
  for (let i = 0; i < 10; i++) await fn()
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = now()
    await fn()
    samples.push(ms(now() - t0))
  }
  return summarize(samples)
}

async function measure(store: StoreKind) {
  const server = await startServer(store)
  try {
    const admin = await new Api(server.url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'bench', 'bench')
    const app = await pushApp(admin, spaceGuid, 'printer')
    const t = expectOk(await admin.post(`/v3/apps/${app}/tasks`, { command: `seq 1 ${LINES}`, name: 'printer' }), 202)
    await waitForTask(admin, t.body.guid, 300_000)
    const trail = expectOk(await admin.get(`/ledger/v1/tasks/${t.body.guid}/trail`)).body
    if (trail.output.summary?.out_lines !== LINES) throw new Error(`expected ${LINES} lines, got ${JSON.stringify(trail.output.summary)}`)
    const api = await timeRequests(() => admin.get(`/ledger/v1/tasks/${t.body.guid}/trail`), N)
    let raw
    if (server.databaseUrl) {
      const client = new pg.Client({ connectionString: server.databaseUrl })
      await client.connect()
      raw = await timeRequests(async () => {
        await client.query('select * from tasks where guid = $1', [t.body.guid])
        await client.query(`select * from events where metadata ->> 'task_guid' = $1 and type like 'audit.app.task.%' order by seq`, [t.body.guid])
        await client.query('select * from task_outputs where task_guid = $1', [t.body.guid])
        await client.query('select data from task_output_chunks where task_guid = $1 order by seq desc limit 1', [t.body.guid])
      }, N)
      await client.end()
    }
    return { api, raw }
  } finally {
    await server.stop()
  }
}

const cluster = STORES.includes('postgres') ? startCluster(path.join(os.tmpdir(), 'cf-ledger-bench-pg-55710'), 55710) : undefined
process.env.TEST_DATABASE_URL = cluster?.url
try {
  const rows: (string | number)[][] = []
  for (const store of STORES) {
    const r = await measure(store)
    rows.push([`${store}: GET trail (${LINES} lines, tail 100)`, r.api.p50, r.api.p99, r.raw ? `${r.raw.p50.toFixed(2)} / ${r.raw.p99.toFixed(2)}` : 'n/a', r.raw ? (r.api.p50 / r.raw.p50).toFixed(1) + 'x' : ''])
  }
  console.log(`\nTrail record latency, ${N} requests after 10 warm-ups\n`)
  table(['measure', 'p50 ms', 'p99 ms', 'raw SQL p50 / p99 ms', 'ratio p50'], rows)
} finally {
  cluster?.stop()
}

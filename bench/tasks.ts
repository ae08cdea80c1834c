// Task latency and throughput through the real server, next to a bare `sh -c true` spawn and the
// raw SQL of a task insert with its audit event, measured in the same run.
//   node --import tsx bench/tasks.ts [--n 200] [--seconds 5] [--stores postgres,embedded]
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp, waitForTask } from '../test/support/push.ts'
import { startServer, type StoreKind } from '../test/support/server.ts'
import { ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ n: '200', seconds: '5', stores: 'postgres,embedded' })
const N = args.num('n')
const SECONDS = args.num('seconds')
const STORES = args.list('stores') as StoreKind[]

async function bareSpawn(n: number) {
  const startLat: number[] = []
  const total: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = now()
    const child = spawn('sh', ['-c', 'true'], { stdio: 'ignore' })
    await new Promise<void>((r) => child.once('spawn', () => r()))
    startLat.push(ms(now() - t0))
    await new Promise((r) => child.once('exit', r))
    total.push(ms(now() - t0))
  }
  return { start: summarize(startLat), total: summarize(total) }
}

async function rawSqlInserts(url: string, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  const deadline = Date.now() + seconds * 1000
  let count = 0
  const worker = async () => {
    while (Date.now() < deadline) {
      const c = await pool.connect()
      try {
        await c.query('begin')
        const guid = crypto.randomUUID()
        await c.query(
          `insert into bench_tasks (guid, app_guid, sequence_id, name, command, state, created_at) values ($1, $2, $3, 'x', 'true', 'PENDING', now())`,
          [guid, 'app', count],
        )
        const head = await c.query('select seq, hash from bench_head where id = 1 for update')
        const seq = Number(head.rows[0].seq) + 1
        const hash = crypto.createHash('sha256').update(head.rows[0].hash).update(guid).digest('hex')
        await c.query(`insert into bench_events (seq, guid, type, metadata, hash) values ($1, $2, 'audit.app.task.create', $3, $4)`, [seq, crypto.randomUUID(), JSON.stringify({ task_guid: guid }), hash])
        await c.query('update bench_head set seq = $1, hash = $2 where id = 1', [seq, hash])
        await c.query('commit')
        count++
      } finally {
        c.release()
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  await pool.end()
  return count / seconds
}

async function measureStore(store: StoreKind, pgUrl: string | undefined) {
  const server = await startServer(store, { env: { CF_LEDGER_TASK_CONCURRENCY: '4' } })
  try {
    const admin = await new Api(server.url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'bench', 'bench')
    const app = await pushApp(admin, spaceGuid, 'bench-app')
    // Warm up.
    for (let i = 0; i < 5; i++) await waitForTask(admin, expectOk(await admin.post(`/v3/apps/${app}/tasks`, { command: 'true' }), 202).body.guid)

    const toRunning: number[] = []
    const toDone: number[] = []
    for (let i = 0; i < N; i++) {
      const sent = Date.now()
      const t = expectOk(await admin.post(`/v3/apps/${app}/tasks`, { command: 'true' }), 202)
      await waitForTask(admin, t.body.guid)
      const trail = expectOk(await admin.get(`/ledger/v1/tasks/${t.body.guid}/trail?output_lines=0`)).body
      toRunning.push(Date.parse(trail.timing.started_at) - sent)
      toDone.push(Date.parse(trail.timing.finished_at) - sent)
    }

    let created = 0
    const deadline = Date.now() + SECONDS * 1000
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < deadline) {
          expectOk(await admin.post(`/v3/apps/${app}/tasks`, { command: 'true' }), 202)
          created++
        }
      }),
    )
    let raw = NaN
    if (store === 'postgres' && pgUrl) {
      const c = new pg.Client({ connectionString: pgUrl })
      await c.connect()
      await c.query(`create table if not exists bench_tasks (guid text primary key, app_guid text, sequence_id int, name text, command text, state text, created_at timestamptz);
        create table if not exists bench_events (seq bigint primary key, guid text, type text, metadata jsonb, hash text);
        create table if not exists bench_head (id int primary key, seq bigint, hash text);
        insert into bench_head values (1, 0, '') on conflict do nothing`)
      await c.end()
      raw = await rawSqlInserts(pgUrl, SECONDS)
    }
    return { toRunning: summarize(toRunning), toDone: summarize(toDone), perSecond: created / SECONDS, raw }
  } finally {
    await server.stop()
  }
}

const cluster = STORES.includes('postgres') ? startCluster(path.join(os.tmpdir(), 'cf-ledger-bench-pg-55700'), 55700) : undefined
process.env.TEST_DATABASE_URL = cluster?.url
try {
  const bare = await bareSpawn(N)
  console.log(`\nTasks: ${N} sequential \`true\` tasks, then ${SECONDS}s of 16 concurrent creations (executor concurrency 4)\n`)
  const rows: (string | number)[][] = [
    ['bare spawn sh -c true: start', bare.start.p50, bare.start.p99, '', ''],
    ['bare spawn sh -c true: exit', bare.total.p50, bare.total.p99, '', ''],
  ]
  for (const store of STORES) {
    const r = await measureStore(store, cluster?.url)
    rows.push([`${store}: create → RUNNING`, r.toRunning.p50, r.toRunning.p99, `${(r.toRunning.p50 - bare.start.p50).toFixed(2)} ms over bare`, ''])
    rows.push([`${store}: create → SUCCEEDED`, r.toDone.p50, r.toDone.p99, `${(r.toDone.p50 - bare.total.p50).toFixed(2)} ms over bare`, ''])
    rows.push([`${store}: creations/s with audit events`, r.perSecond, '', '', Number.isNaN(r.raw) ? '' : `raw SQL ${r.raw.toFixed(0)}/s (${(r.perSecond / r.raw).toFixed(2)}x)`])
  }
  table(['measure', 'p50 ms | /s', 'p99 ms', 'overhead', 'baseline'], rows)
} finally {
  cluster?.stop()
}

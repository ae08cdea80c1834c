// Log pipeline throughput (docs/performance.md, "Logs"): task lines into the durable store, and
// into a TCP syslog drain, next to the raw cost of writing the same bytes to a file and a socket,
// in the same run. `node --import tsx bench/logs.ts [--lines 1000000] [--stores embedded,postgres]`.
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { nowNs } from '../src/executor/line-reader.ts'
import { loadLogConfig } from '../src/logs/config.ts'
import { createLogPipeline, type LogPipeline } from '../src/logs/pipeline.ts'
import type { TaskLogContext } from '../src/logs/sink.ts'
import { rfc5424 } from '../src/logs/syslog.ts'
import { octetFrame } from '../src/syslog/framing.ts'
import { openStore, type Db } from '../src/store/store.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ lines: '1000000', stores: 'embedded,postgres', port: '55800' })
const LINES = args.num('lines')
const STORES = args.list('stores')
const PG_PORT = args.num('port')

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} lines/s`.padStart(18)
const row = (label: string, n: number, ms: number) => console.log(`  ${label.padEnd(46)} ${rate(n, ms)}  (${(ms / 1000).toFixed(2)} s)`)

/** What `seq 1 N` prints, as the executor hands it over: one line at a time. */
const lineText = (i: number) => String(i + 1)

/** A receiver in its own process that counts frames (each ends in `\n`) and says when it has `n`. */
function startReceiver(): Promise<{ port: number; child: ChildProcess; expect(n: number): Promise<void> }> {
  const code = `
    const net = require('net'); let count = 0, target = Infinity
    process.on('message', (m) => { count = 0; target = m; if (count >= target) process.send('done') })
    net.createServer((s) => s.on('data', (d) => { for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) count++; if (count >= target) { target = Infinity; process.send('done') } }))
      .listen(0, '127.0.0.1', function () { process.send({ port: this.address().port }) })`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve) => {
    child.once('message', (m: { port: number }) =>
      resolve({
        port: m.port,
        child,
        expect: (n) =>
          new Promise<void>((done) => {
            child.once('message', () => done())
            child.send(n)
          }),
      }),
    )
  })
}

async function seedApp(db: Db): Promise<{ ctx: TaskLogContext; spaceGuid: string }> {
  const now = new Date()
  const org = crypto.randomUUID()
  const space = crypto.randomUUID()
  const app = crypto.randomUUID()
  await db.insertInto('organizations').values({ guid: org, name: `bench-${org.slice(0, 8)}`, suspended: false, created_at: now, updated_at: now, labels: '{}', annotations: '{}' }).execute()
  await db.insertInto('spaces').values({ guid: space, name: 'dev', organization_guid: org, created_at: now, updated_at: now, labels: '{}', annotations: '{}' }).execute()
  await db
    .insertInto('apps')
    .values({ guid: app, name: 'bench-app', space_guid: space, state: 'STOPPED', lifecycle: JSON.stringify({ type: 'buildpack', data: { buildpacks: [], stack: 'cflinuxfs4' } }), current_droplet_guid: null, environment_variables: '{}', max_task_sequence_id: 0, created_at: now, updated_at: now, labels: '{}', annotations: '{}' })
    .execute()
  const ctx: TaskLogContext = {
    taskGuid: crypto.randomUUID(),
    taskName: 'bench',
    appGuid: app,
    appName: 'bench-app',
    spaceGuid: space,
    spaceName: 'dev',
    organizationGuid: org,
    organizationName: `bench-${org.slice(0, 8)}`,
    logRateLimitBytesPerSecond: -1,
  }
  return { ctx, spaceGuid: space }
}

async function bindDrain(db: Db, p: LogPipeline, ctx: TaskLogContext, url: string): Promise<void> {
  const now = new Date()
  const si = crypto.randomUUID()
  await db.insertInto('service_instances').values({ guid: si, name: `drain-${si.slice(0, 6)}`, type: 'user-provided', space_guid: ctx.spaceGuid, credentials: '{}', syslog_drain_url: url, route_service_url: null, tags: '[]', created_at: now, updated_at: now, labels: '{}', annotations: '{}' }).execute()
  await db.insertInto('service_bindings').values({ guid: crypto.randomUUID(), type: 'app', name: null, app_guid: ctx.appGuid, service_instance_guid: si, created_at: now, updated_at: now, labels: '{}', annotations: '{}' }).execute()
  await p.drains.reload()
}

/** Feeds `n` lines through the sink; resolves when taskExited says the output is durable. */
async function runTask(p: LogPipeline, ctx: TaskLogContext, n: number): Promise<{ feedMs: number; durableMs: number }> {
  const t0 = performance.now()
  p.sink.taskStarting(ctx)
  // The executor hands lines over in chunks as it reads them; yield between chunks as it does.
  for (let i = 0; i < n; i += 4096) {
    const end = Math.min(n, i + 4096)
    for (let j = i; j < end; j++) p.sink.taskOutput(ctx, { stream: 'OUT', text: lineText(j), timestampNs: nowNs() })
    await new Promise((r) => setImmediate(r))
  }
  const feedMs = performance.now() - t0
  await p.sink.taskExited(ctx, { exitStatus: 0, oomKilled: false })
  return { feedMs, durableMs: performance.now() - t0 }
}

function fileBaseline(n: number): number {
  const file = path.join(os.tmpdir(), `cf-ledger-bench-${process.pid}.out`)
  const t0 = performance.now()
  const fd = fs.openSync(file, 'w')
  let buf = ''
  for (let i = 0; i < n; i++) {
    buf += lineText(i) + '\n'
    if (buf.length >= 1 << 20) {
      fs.writeSync(fd, buf)
      buf = ''
    }
  }
  fs.writeSync(fd, buf)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  const ms = performance.now() - t0
  fs.rmSync(file)
  return ms
}

/** The same frames the drain writes, formatted and written to a socket by hand. */
async function socketBaseline(p: LogPipeline, ctx: TaskLogContext, n: number, recv: Awaited<ReturnType<typeof startReceiver>>): Promise<number> {
  const tags = { source_type: 'APP/TASK/bench', app_id: ctx.appGuid, app_name: ctx.appName, organization_id: ctx.organizationGuid, organization_name: ctx.organizationName, space_id: ctx.spaceGuid, space_name: ctx.spaceName, source_id: ctx.appGuid, instance_id: '0', task_guid: ctx.taskGuid }
  void p
  const received = recv.expect(n)
  const t0 = performance.now()
  const sock = await new Promise<net.Socket>((resolve) => {
    const s = net.connect(recv.port, '127.0.0.1', () => resolve(s))
  })
  let batch = ''
  for (let i = 0; i < n; i++) {
    batch += octetFrame(rfc5424({ timestamp: nowNs(), sourceId: ctx.appGuid, instanceId: '0', tags, type: 'OUT', payload: lineText(i) }))
    if (batch.length > 256 * 1024) {
      if (!sock.write(batch)) await new Promise((r) => sock.once('drain', r))
      batch = ''
    }
  }
  sock.write(batch)
  await received
  const ms = performance.now() - t0
  sock.destroy()
  return ms
}

async function benchStore(kind: string, db: Db, close: () => Promise<void>): Promise<void> {
  console.log(`\n${kind}: ${LINES.toLocaleString('en-US')} lines of \`seq 1 ${LINES}\``)
  const config = { logs: loadLogConfig({ ...process.env, CF_LEDGER_LOG_TASK_MAX_BYTES: String(1024 * 1024 * 1024) }), publicUrl: undefined }
  const p = await createLogPipeline({ db, config, logger: pino({ level: 'error' }) })
  const recv = await startReceiver()
  try {
    const warm = await seedApp(db)
    await runTask(p, warm.ctx, 20_000)

    const plain = await seedApp(db)
    const s = await runTask(p, plain.ctx, LINES)
    row('into the store (sink → durable)', LINES, s.durableMs)
    row('  of which: handing lines to the sink', LINES, s.feedMs)
    row('raw: the same bytes to a file (+fsync)', LINES, fileBaseline(LINES))

    const drained = await seedApp(db)
    await bindDrain(db, p, drained.ctx, `syslog://127.0.0.1:${recv.port}`)
    const received = recv.expect(LINES + 6)
    const t0 = performance.now()
    const d = await runTask(p, drained.ctx, LINES)
    await received
    const drainMs = performance.now() - t0
    row('into a TCP drain (sink → store + drain)', LINES, drainMs)
    row('  of which: durable in the store', LINES, d.durableMs)
    row('raw: the same frames to a socket', LINES, await socketBaseline(p, drained.ctx, LINES, recv))
  } finally {
    recv.child.kill()
    await p.close()
    await close()
  }
}

let cluster: ReturnType<typeof startCluster> | undefined
try {
  for (const kind of STORES) {
    if (kind === 'embedded') {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-logs-'))
      const store = await openStore({ databaseUrl: undefined, dataDir })
      await benchStore('embedded (PGlite)', store.db, async () => {
        await store.close()
        fs.rmSync(dataDir, { recursive: true, force: true })
      })
    } else if (kind === 'postgres') {
      cluster = startCluster(path.join(os.tmpdir(), `cf-ledger-bench-pg-${PG_PORT}`), PG_PORT)
      const name = `bench_logs_${crypto.randomUUID().replace(/-/g, '').slice(0, 8)}`
      const admin = new pg.Client({ connectionString: cluster.url })
      await admin.connect()
      await admin.query(`create database ${name}`)
      await admin.end()
      const store = await openStore({ databaseUrl: cluster.url.replace(/\/[^/]*$/, `/${name}`), dataDir: os.tmpdir() })
      await benchStore('PostgreSQL', store.db, () => store.close())
    }
  }
} finally {
  cluster?.stop()
}

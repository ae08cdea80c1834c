// The collector (docs/performance.md, "Collect"), on PostgreSQL, each number next to its baseline
// from the same run:
//   1. events collected per second from a foundation (a cf-ledger server) holding --events
//      100,000 events, next to the foundation's own /v3/audit_events read rate (the same pages,
//      read and parsed, nothing stored);
//   2. drain lines per second over TCP (octet-counted RFC 5424, attributed to one run and stored
//      durably), next to a raw socket read of the same bytes;
//   3. the lag from a task's end on the foundation to its complete trail in the collector.
//   node --import tsx bench/collect.ts [--events 100000] [--lines 500000] [--tasks 5] [--interval 1000] [--port 55900]
//     [--parts events,drain,lag]
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { Attributor } from '../src/collect/attribution.ts'
import { FoundationCollector } from '../src/collect/collector.ts'
import { startDrainListener } from '../src/collect/drain-listener.ts'
import { integrateAll } from '../src/ledger/integrator.ts'
import { loadLogConfig } from '../src/logs/config.ts'
import { OutputStore } from '../src/logs/output-store.ts'
import { openStore } from '../src/store/store.ts'
import { fingerprinter } from '../src/trail/fingerprint.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp, waitForTask } from '../test/support/push.ts'
import { startServer } from '../test/support/server.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ events: '100000', lines: '500000', tasks: '5', interval: '1000', port: '55900', parts: 'events,drain,lag' })
const PARTS = args.list('parts')
const EVENTS = args.num('events')
const LINES = args.num('lines')
const TASKS = args.num('tasks')
const INTERVAL = args.num('interval')
const PORT = args.num('port')

const perSecond = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`.padStart(12)
const row = (label: string, n: number, ms: number) => console.log(`  ${label.padEnd(58)} ${perSecond(n, ms)}  (${(ms / 1000).toFixed(2)} s)`)
const logger = pino({ level: 'silent' })

async function freshDatabase(url: string): Promise<string> {
  const name = `b_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(`create database ${name}`)
  await c.end()
  return url.replace(/\/[^/]*$/, `/${name}`)
}

/** N events straight into the foundation's table (one statement), spread over the last 30 days. */
async function seedEvents(databaseUrl: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  await c.query(
    `insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid)
     select gen_random_uuid()::text, now() - interval '30 days' + (i * interval '30 days' / $1), 'audit.app.update', 'u-' || (i % 500), 'user', 'dana', 'dana',
       'app-' || (i % 1000), 'app', 'billing', '{"request":{"name":"billing","state":"STARTED"}}', 's-' || (i % 100), 'o-' || (i % 10)
     from generate_series(1, $1) as i`,
    [n],
  )
  await c.end()
}

async function eventsBench(clusterUrl: string): Promise<void> {
  console.log(`\n-- audit events: a foundation with ${EVENTS.toLocaleString('en-US')} events`)
  // The foundation's integrator is kept out of the measurement (it would fold 100k leaves meanwhile).
  let source = await startServer('postgres', { env: { CF_LEDGER_INTEGRATE_INTERVAL_MS: '3600000' } })
  await source.stop()
  await seedEvents(source.databaseUrl!, EVENTS)
  source = await source.restart()
  const admin = await new Api(source.url).admin()
  expectOk(await admin.post('/oauth/clients', { client_id: 'bench', client_secret: 'bench', authorities: ['cloud_controller.admin_read_only'], authorized_grant_types: ['client_credentials'] }), 201)

  // Baseline: the foundation's own read of every page, parsed.
  let t = performance.now()
  let read = 0
  for (let next: string | null = `${source.url}/v3/audit_events?order_by=created_at&per_page=5000`; next; ) {
    const page = (await (await fetch(next, { headers: { authorization: `bearer ${admin.token}` } })).json()) as { resources: unknown[]; pagination: { next: { href: string } | null } }
    read += page.resources.length
    next = page.pagination.next?.href ?? null
  }
  row(`the foundation's /v3/audit_events read (${read} events)`, read, performance.now() - t)

  const store = await openStore({ databaseUrl: await freshDatabase(clusterUrl), dataDir: os.tmpdir() }, logger)
  const output = new OutputStore(store.db, loadLogConfig({}), logger)
  const foundation = { name: 'bench', api: source.url, clientId: 'bench', clientSecret: 'bench', ca: undefined, skipSslValidation: false, logs: 'drain' as const }
  const collector = new FoundationCollector(store.db, foundation, { overlapSeconds: 120, rescanSeconds: 3600, outputGraceMs: 0 }, new Attributor(output), fingerprinter(Buffer.alloc(32)))
  t = performance.now()
  const pass = await collector.pass()
  row(`collected: read, de-duplicated, stored with entries (${pass.eventsAdded})`, pass.eventsAdded, performance.now() - t)
  t = performance.now()
  const again = await collector.pass(Date.now() + 3_600_000)
  row(`a rescan of all of them (${again.eventsRead} read, ${again.eventsAdded} new)`, again.eventsRead, performance.now() - t)
  t = performance.now()
  const leaves = await integrateAll(store.db)
  row(`integrated into the collector's Merkle log (${leaves} leaves)`, leaves, performance.now() - t)
  collector.client.close()
  await store.close()
  await source.stop()
}

async function drainBench(clusterUrl: string): Promise<void> {
  console.log(`\n-- drain: ${LINES.toLocaleString('en-US')} lines over TCP, octet-counted RFC 5424 as Loggregator sends them`)
  const app = crypto.randomUUID()
  const start = Date.now()
  const frames: Buffer[] = []
  for (let i = 0; i < LINES; i++) {
    const ts = new Date(start + Math.floor(i / 1000)).toISOString().replace('Z', '+00:00')
    const msg = `<14>1 ${ts} acme.prod.billing ${app} [APP/TASK/report/0] - [tags@47450 app_id="${app}" app_name="billing" instance_id="0" organization_name="acme" source_id="${app}" source_type="APP/TASK/report" space_name="prod"] line ${i} of the report output\n`
    frames.push(Buffer.from(`${Buffer.byteLength(msg)} ${msg}`))
  }
  const bytes = Buffer.concat(frames)
  const send = async (port: number) => {
    const s = net.connect(port, '127.0.0.1')
    await new Promise((r) => s.once('connect', r))
    s.end(bytes)
  }

  // Baseline: a socket that only receives the bytes.
  let received = 0
  let doneRaw: () => void = () => undefined
  const raw = net.createServer((s) => s.on('data', (d) => (received += d.length) >= bytes.length && doneRaw()))
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()))
  let t = performance.now()
  await Promise.all([new Promise<void>((r) => (doneRaw = r)), send((raw.address() as net.AddressInfo).port)])
  row(`raw socket read (${(bytes.length / 1048576).toFixed(0)} MiB)`, LINES, performance.now() - t)
  raw.close()

  const store = await openStore({ databaseUrl: await freshDatabase(clusterUrl), dataDir: os.tmpdir() }, logger)
  const output = new OutputStore(store.db, { ...loadLogConfig({}), taskMaxBytes: 1 << 30 }, logger)
  await output.init()
  const attributor = new Attributor(output)
  const task = crypto.randomUUID()
  attributor.register({ taskGuid: task, foundation: 'bench', appGuid: app, name: 'report', createdAtMs: start - 1000, endedAtMs: null })
  const listener = await startDrainListener({ host: '127.0.0.1', tcpPort: 0, tls: undefined }, (m) => attributor.line(m), logger)
  t = performance.now()
  await send(Number(listener.addresses.tcp!.split(':').at(-1)))
  while (attributor.stats.attributed < LINES) await new Promise((r) => setTimeout(r, 5))
  const parsed = performance.now() - t
  row('parsed and attributed to their run', LINES, parsed)
  await attributor.finish(task)
  row('… and stored durably (the run output summary committed)', LINES, performance.now() - t)
  await listener.close()
  await store.close()
}

async function lagBench(): Promise<void> {
  console.log(`\n-- lag: a task's end on the foundation to its complete trail in the collector (pass interval ${INTERVAL} ms)`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-collect-'))
  const source = await startServer('postgres')
  const src = await new Api(source.url).admin()
  expectOk(await src.post('/oauth/clients', { client_id: 'bench', client_secret: 'bench', authorities: ['cloud_controller.admin_read_only'], authorized_grant_types: ['client_credentials'] }), 201)
  const { spaceGuid } = await createOrgAndSpace(src, 'acme', 'prod')
  const app = await pushApp(src, spaceGuid, 'billing')
  const probe = net.createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()))
  const drainPort = (probe.address() as net.AddressInfo).port
  await new Promise((r) => probe.close(r))
  fs.writeFileSync(path.join(dir, 'f.json'), JSON.stringify({ foundations: [{ name: 'bench', api: source.url, client_id: 'bench', client_secret: 'bench' }] }))
  const collector = await startServer('postgres', {
    env: { CF_LEDGER_COLLECT_CONFIG: path.join(dir, 'f.json'), CF_LEDGER_COLLECT_INTERVAL_MS: String(INTERVAL), CF_LEDGER_COLLECT_DRAIN_HOST: '127.0.0.1', CF_LEDGER_COLLECT_DRAIN_PORT: String(drainPort) },
  })
  const col = await new Api(collector.url).admin()
  const si = expectOk(await src.post('/v3/service_instances', { type: 'user-provided', name: 'ledger', syslog_drain_url: `syslog://127.0.0.1:${drainPort}`, relationships: { space: { data: { guid: spaceGuid } } } }), 201)
  expectOk(await src.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: app } }, service_instance: { data: { guid: si.body.guid } } } }), 201)
  const lags: number[] = []
  for (let i = 0; i < TASKS; i++) {
    const t = expectOk(await src.post(`/v3/apps/${app}/tasks`, { command: 'seq 1 1000', name: `lag-${i}` }), 202).body
    await waitForTask(src, t.guid)
    const ended = Date.parse((await src.get(`/ledger/v1/tasks/${t.guid}/trail`)).body.timing.finished_at)
    for (;;) {
      const r = await col.get(`/ledger/v1/tasks/${t.guid}/trail?output_lines=0`)
      if (r.status === 200 && r.body.output.summary?.out_lines === 1000) break
      await new Promise((res) => setTimeout(res, 20))
    }
    lags.push(Date.now() - ended)
  }
  lags.sort((a, b) => a - b)
  console.log(`  lag over ${TASKS} tasks of 1,000 lines: median ${lags[Math.floor(lags.length / 2)]} ms, max ${lags.at(-1)} ms (a pass every ${INTERVAL} ms; a run is recorded the pass after it is seen ended)`)
  await collector.stop()
  await source.stop()
  fs.rmSync(dir, { recursive: true, force: true })
}

const cluster = startCluster(path.join(os.tmpdir(), `cf-ledger-bench-pg-${PORT}`), PORT)
process.env.TEST_DATABASE_URL = cluster.url
try {
  if (PARTS.includes('events')) await eventsBench(cluster.url)
  if (PARTS.includes('drain')) await drainBench(cluster.url)
  if (PARTS.includes('lag')) await lagBench()
} finally {
  cluster.stop()
}

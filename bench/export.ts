// Audit export throughput: the NDJSON stream over HTTP (GET /ledger/v1/events/stream?after=0&follow=false
// against the real server) next to the raw SQL read of the same rows from the same store, in the
// same run; plus the live-follow latency of a new event.
//   npm run bench -- export [--n 200000] [--stores postgres,embedded] [--port 55600] [--runs 3]
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { CompiledQuery } from 'kysely'
import pg from 'pg'
import { eventJson } from '../src/export/present.ts'
import type { ExportRow } from '../src/export/events.ts'
import { integrateAll } from '../src/ledger/integrator.ts'
import { openStore, type Db } from '../src/store/store.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, expectOk } from '../test/support/client.ts'
import { freshStore, startServer, type StoreKind } from '../test/support/server.ts'
import { ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'
import { SEEDED_HEAD, seedChainedEvents, UNNEST_EVENTS } from './seed-events.ts'

const args = benchArgs({ n: '200000', stores: 'postgres,embedded', port: '55600', runs: '3' })
const N = args.num('n')
const STORES = args.list('stores') as StoreKind[]
const PORT = args.num('port')
const RUNS = args.num('runs')
if (!(N > 0 && N <= 5_000_000 && RUNS > 0)) throw new Error('--n must be 1..5000000 and --runs > 0')

const median = (xs: readonly number[]) => summarize(xs).p50

// ---------------------------------------------------------------------------------------------
// Seeding (bench/seed-events.ts): a mix of task, app, space and role events in 20 orgs and 100 spaces.

async function seed(db: Db, n: number): Promise<void> {
  const orgs = Array.from({ length: 20 }, () => crypto.randomUUID())
  const spaces = Array.from({ length: 100 }, () => crypto.randomUUID())
  const t0 = Date.now() - n * 10
  const make = (seq: number) => {
    const k = seq % 10
    return {
      seq,
      guid: crypto.randomUUID(),
      created_at: new Date(t0 + seq * 10),
      type: ['audit.app.task.create', 'audit.app.update', 'audit.space.update', 'audit.user.space_developer_add', 'audit.app.start'][seq % 5]!,
      actor: 'a1b2c3d4-0000-4000-8000-000000000001',
      actor_type: 'user',
      actor_name: 'dev@example.com',
      actor_username: 'dev',
      actee: crypto.randomUUID(),
      actee_type: 'app',
      actee_name: `app-${seq % 997}`,
      metadata: { request: { name: `app-${seq % 997}`, command: '[PRIVATE DATA HIDDEN]', memory_in_mb: 256, metadata: { labels: { team: 'payments' } } }, task_guid: crypto.randomUUID() },
      space_guid: k < 6 ? spaces[seq % spaces.length]! : '',
      organization_guid: k < 9 ? orgs[seq % orgs.length]! : '',
    }
  }
  const head = await seedChainedEvents(n, make, (cols) => db.executeQuery(CompiledQuery.raw(UNNEST_EVENTS, cols)))
  await db.executeQuery(CompiledQuery.raw(SEEDED_HEAD, [head.seq, head.hash, new Date().toISOString()]))
}

// ---------------------------------------------------------------------------------------------
// Raw SQL reads of the same rows, straight from the store (no server): one query for all rows,
// and the stream's own access pattern (keyset batches of 1000 on the primary key). "+ lines" also
// builds each NDJSON line in process, to separate the presenter's cost from the HTTP server's.

type Query = (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>

const COLUMNS = `e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name, e.actor_username, e.actee, e.actee_type,
  e.actee_name, e.metadata, e.space_guid, e.organization_guid, e.prev_hash, e.hash, l.leaf_index`
const KEYSET = `select ${COLUMNS} from ledger_leaves l left join events e on e.seq = l.event_seq where l.leaf_index >= $1 order by l.leaf_index limit 1000`

async function rawReads(query: Query, n: number) {
  const full: number[] = []
  const keyset: number[] = []
  const lines: number[] = []
  for (let run = 0; run <= RUNS; run++) {
    let t = now()
    const all = await query(`select ${COLUMNS} from ledger_leaves l left join events e on e.seq = l.event_seq order by l.leaf_index`, [])
    if (all.length !== n) throw new Error(`raw read got ${all.length} rows, expected ${n}`)
    const fullMs = ms(now() - t)
    t = now()
    let count = 0
    let bytes = 0
    for (let after = 0; ; ) {
      const rows = await query(KEYSET, [after])
      if (!rows.length) break
      count += rows.length
      after = Number(rows[rows.length - 1]!.leaf_index) + 1
    }
    const keysetMs = ms(now() - t)
    t = now()
    for (let after = 0; ; ) {
      const rows = await query(KEYSET, [after])
      if (!rows.length) break
      for (const r of rows) {
        const row = { ...r, seq: Number(r.seq), position: Number(r.leaf_index) + 1, created_at: new Date(r.created_at as string) }
        bytes += eventJson(row as unknown as ExportRow, 'http://127.0.0.1').length + 1
      }
      after = Number(rows[rows.length - 1]!.leaf_index) + 1
    }
    const linesMs = ms(now() - t)
    if (count !== n) throw new Error(`keyset read got ${count} rows, expected ${n}`)
    if (run === 0) continue // warm-up
    full.push(n / (fullMs / 1000))
    keyset.push(n / (keysetMs / 1000))
    lines.push(n / (linesMs / 1000))
    void bytes
  }
  return { full: median(full), keyset: median(keyset), lines: median(lines) }
}

// ---------------------------------------------------------------------------------------------
// Through the server: a consumer reads the whole stream and counts lines.

async function streamOnce(api: Api): Promise<{ events: number; bytes: number; seconds: number }> {
  const t = now()
  const res = await fetch(`${api.url}/ledger/v1/events/stream?after=0&follow=false`, { headers: { authorization: `bearer ${api.token}` } })
  if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`)
  let events = 0
  let bytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) events++
  }
  return { events, bytes, seconds: ms(now() - t) / 1000 }
}

/** Time from the POST that writes an event to its line arriving on an open stream. */
async function liveLatency(api: Api, samples: number) {
  const head = Number(expectOk(await api.get('/ledger/v1/export/syslog')).body.head)
  const ac = new AbortController()
  const res = await fetch(`${api.url}/ledger/v1/events/stream?after=${head}`, { headers: { authorization: `bearer ${api.token}` }, signal: ac.signal })
  const reader = res.body!.getReader()
  const out: number[] = []
  let buf = ''
  for (let i = 0; i < samples; i++) {
    const t = now()
    const post = api.post('/v3/organizations', { name: `live-${crypto.randomUUID().slice(0, 8)}` })
    for (;;) {
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (line) break
        continue
      }
      const { value } = await reader.read()
      buf += new TextDecoder().decode(value)
    }
    out.push(ms(now() - t))
    expectOk(await post, 201)
  }
  ac.abort()
  return summarize(out)
}

async function benchStore(store: StoreKind) {
  const fresh = await freshStore(store)
  let t = now()
  const s = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
  await seed(s.db, N)
  await integrateAll(s.db) // the stream reads leaves: integrate before measuring, as a running server would have
  await s.close()
  const seedSeconds = ms(now() - t) / 1000

  // Raw reads first (the embedded store admits one process at a time).
  let raw
  if (store === 'postgres') {
    const client = new pg.Client({ connectionString: fresh.databaseUrl })
    await client.connect()
    try {
      raw = await rawReads(async (text, params) => (await client.query(text, params)).rows, N)
    } finally {
      await client.end()
    }
  } else {
    const db = await PGlite.create(path.join(fresh.dataDir, 'pg'))
    try {
      raw = await rawReads(async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows, N)
    } finally {
      await db.close()
    }
  }

  const server = await startServer(store, { dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl })
  try {
    const admin = await new Api(server.url).admin()
    const rates: number[] = []
    let bytes = 0
    for (let run = 0; run <= RUNS; run++) {
      t = now()
      const r = await streamOnce(admin)
      if (r.events !== N) throw new Error(`stream delivered ${r.events} events, expected ${N}`)
      bytes = r.bytes
      if (run > 0) rates.push(N / r.seconds)
    }
    const live = await liveLatency(admin, 20)
    return { seedSeconds, raw, stream: median(rates), bytesPerEvent: bytes / N, live }
  } finally {
    await server.stop()
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-'))
process.env.CF_LEDGER_TEST_TMP = tmp
const cluster = STORES.includes('postgres') ? startCluster(path.join(os.tmpdir(), `cf-ledger-bench-pg-${PORT}`), PORT) : undefined
if (cluster) process.env.TEST_DATABASE_URL = cluster.url
try {
  console.log(`\nAudit export: ${N} events, median of ${RUNS} runs after a warm-up`)
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  const rows: (string | number)[][] = []
  const lat: (string | number)[][] = []
  for (const store of STORES) {
    const r = await benchStore(store)
    console.log(`${store}: seeded ${N} events in ${r.seedSeconds.toFixed(1)} s; ${r.bytesPerEvent.toFixed(0)} bytes per NDJSON line`)
    rows.push([store, r.stream, r.raw.keyset, r.raw.full, r.raw.lines, r.stream / r.raw.keyset, r.stream / r.raw.full])
    lat.push([store, r.live.p50, r.live.p99, r.live.n])
  }
  console.log('\nThroughput, events/s')
  table(['store', 'HTTP stream', 'SQL keyset 1000', 'SQL one query', 'SQL + lines', 'stream/keyset', 'stream/one query'], rows)
  console.log('\nLive follow: POST /v3/organizations → its line on an open stream, ms')
  table(['store', 'p50', 'p99', 'samples'], lat)
} finally {
  cluster?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}

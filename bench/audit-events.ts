// Audit-event reads at scale: seeds 1,000,000 chained events (--events 10000000 for 10M) into a
// fresh store, then measures p50/p99 of GET /v3/audit_events and GET /v2/events for each filter
// kind through the real server, next to the raw SQL the endpoint runs (the same count and page
// queries, through the same driver, without HTTP, auth or JSON), in the same run.
//   node --import tsx bench/audit-events.ts [--events 1000000] [--stores postgres,embedded]
//     [--iterations 100] [--port 55700] [--json results.json] [--verify]
// --verify also times `cf-ledger verify` over the seeded ledger.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { loadCheckpointKey, signCheckpoint, appendCheckpointLog } from '../src/audit/checkpoints.ts'
import type { EventScope } from '../src/authz/permissions.ts'
import { countEventsHow, runListQueries, type EventFilter, type EventOrder } from '../src/queries/events.ts'
import { openStore, type Db } from '../src/store/store.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { spawnSync } from 'node:child_process'
import { Api, createUser, expectOk, grant } from '../test/support/client.ts'
import { freshStore, startServer, type StoreKind } from '../test/support/server.ts'
import { benchArgs } from './args.ts'
import { SEEDED_HEAD, seedChainedEvents, UNNEST_EVENTS } from './seed-events.ts'
import { ms, now, summarize, table, type Summary } from './stats.ts'

const args = benchArgs({ events: '1000000', '10m': false, stores: 'postgres,embedded', iterations: '100', port: '55700', json: '', verify: false })
const EVENTS = args.flag('10m') ? 10_000_000 : args.num('events')
const STORES = args.list('stores') as StoreKind[]
const ITERATIONS = args.num('iterations')
const WARMUP = Math.max(5, Math.floor(ITERATIONS / 10))
const PORT = args.num('port')
const JSON_OUT = args.absent('json') ? undefined : args.str('json')
const VERIFY = args.flag('verify')

// The seeded world: 100 orgs x 10 spaces x 10 apps, 500 users, events spread over 30 days.
const ORGS = 100
const SPACES_PER_ORG = 10
const APPS_PER_SPACE = 10
const USERS = 500
const SPAN_MS = 30 * 86_400_000

/** A small deterministic PRNG, so every run seeds the same ledger. */
function prng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const uuid = (n: number, kind: number) => {
  const h = crypto.createHash('sha1').update(`${kind}:${n}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}
const orgGuid = (o: number) => uuid(o, 1)
const spaceGuid = (s: number) => uuid(s, 2)
const appGuid = (a: number) => uuid(a, 3)
const userGuid = (u: number) => uuid(u, 4)

/** Event kinds by weight (per mille), roughly as a busy foundation writes them. */
const KINDS: readonly [number, string, 'app' | 'space' | 'org' | 'space-role' | 'org-role' | 'crash'][] = [
  [250, 'audit.app.update', 'app'],
  [150, 'audit.app.task.create', 'app'],
  [100, 'audit.app.start', 'app'],
  [100, 'audit.app.stop', 'app'],
  [60, 'audit.app.create', 'app'],
  [60, 'audit.app.process.scale', 'app'],
  [50, 'audit.app.droplet.create', 'app'],
  [50, 'audit.app.build.create', 'app'],
  [29, 'audit.app.package.upload', 'app'],
  [1, 'audit.app.task.cancel', 'app'],
  [50, 'audit.space.update', 'space'],
  [30, 'audit.organization.update', 'org'],
  [30, 'audit.user.space_developer_add', 'space-role'],
  [20, 'audit.user.organization_user_add', 'org-role'],
  [20, 'app.crash', 'crash'],
]

interface Seeded {
  readonly first: Date
  readonly last: Date
  readonly head: { seq: number; hash: string }
}

/** Generates the events (their mix over 30 days) and seeds them, hash chain included. */
async function seedEvents(n: number, insert: (columns: unknown[][]) => Promise<void>): Promise<Seeded> {
  const rand = prng(42)
  const end = Date.now() - 60_000
  const start = end - SPAN_MS
  const total = KINDS.reduce((a, [w]) => a + w, 0)
  const make = (seq: number) => {
    let pick = rand() * total
    const kind = KINDS.find(([w]) => (pick -= w) < 0) ?? KINDS[0]!
    const org = Math.floor(rand() * ORGS)
    const space = org * SPACES_PER_ORG + Math.floor(rand() * SPACES_PER_ORG)
    const app = space * APPS_PER_SPACE + Math.floor(rand() * APPS_PER_SPACE)
    const user = Math.floor(rand() * USERS)
    const e = {
      seq,
      guid: crypto.randomUUID(),
      created_at: new Date(start + Math.floor(((seq - 1) * SPAN_MS) / n)),
      type: kind[1],
      actor: userGuid(user),
      actor_type: 'user',
      actor_name: `user-${user}@example.com`,
      actor_username: `user-${user}` as string | null,
      actee: appGuid(app),
      actee_type: 'app',
      actee_name: `app-${app}`,
      metadata: { request: { name: `app-${app}`, instances: 1 + (seq % 3) } } as Record<string, unknown>,
      space_guid: spaceGuid(space),
      organization_guid: orgGuid(org),
    }
    if (kind[2] === 'space') Object.assign(e, { actee: spaceGuid(space), actee_type: 'space', actee_name: `space-${space}` })
    if (kind[2] === 'org') Object.assign(e, { actee: orgGuid(org), actee_type: 'organization', actee_name: `org-${org}`, space_guid: '' })
    if (kind[2] === 'space-role' || kind[2] === 'org-role') {
      Object.assign(e, { actee: userGuid((user + 1) % USERS), actee_type: 'user', actee_name: `user-${(user + 1) % USERS}`, metadata: { request: {} } })
      if (kind[2] === 'org-role') e.space_guid = ''
    }
    if (kind[2] === 'crash') Object.assign(e, { actor: appGuid(app), actor_type: 'app', actor_name: `app-${app}`, actor_username: null, metadata: { index: 0, exit_status: 137, reason: 'CRASHED' } })
    if (kind[1] === 'audit.app.task.create') e.metadata = { task_guid: crypto.randomUUID(), request: { name: 'migrate', memory_in_mb: 256, command: '[PRIVATE DATA HIDDEN]' } }
    return e
  }
  const head = await seedChainedEvents(n, make, insert, { progress: (seq) => seq % 100_000 === 0 && process.stdout.write(`  ${seq} events\r`) })
  return { first: new Date(start), last: new Date(start + Math.floor(((n - 1) * SPAN_MS) / n)), head }
}

/** The orgs and spaces the events name, as rows, so roles can be granted in them. */
async function seedWorld(exec: (text: string, params?: unknown[]) => Promise<unknown>): Promise<void> {
  const t = new Date().toISOString()
  await exec(`insert into organizations (guid, name, suspended, created_at, updated_at, labels, annotations)
    select g, 'org-' || i, false, $2, $2, '{}', '{}' from unnest($1::text[]) with ordinality as x(g, i)`, [Array.from({ length: ORGS }, (_, o) => orgGuid(o)), t])
  const spaces = Array.from({ length: ORGS * SPACES_PER_ORG }, (_, s) => s)
  await exec(`insert into spaces (guid, name, organization_guid, created_at, updated_at, labels, annotations)
    select g, 'space-' || i, o, $3, $3, '{}', '{}' from unnest($1::text[], $2::text[]) with ordinality as x(g, o, i)`, [
    spaces.map(spaceGuid),
    spaces.map((s) => orgGuid(Math.floor(s / SPACES_PER_ORG))),
    t,
  ])
}

async function finishSeed(exec: (text: string, params?: unknown[]) => Promise<unknown>, seeded: Seeded, dataDir: string): Promise<void> {
  await exec(SEEDED_HEAD, [seeded.head.seq, seeded.head.hash, seeded.last.toISOString()])
  // Sign the seeded head, so the server's start-up checkpoint has nothing left to re-check.
  const key = loadCheckpointKey(dataDir, undefined)
  const cp = signCheckpoint(key, seeded.head.seq, seeded.head.hash, new Date())
  await exec('insert into ledger_checkpoints (seq, hash, signed_at, key_id, signature) values ($1, $2, $3, $4, $5)', [cp.seq, cp.hash, cp.signed_at, cp.key_id, cp.signature])
  appendCheckpointLog(dataDir, cp)
  await exec('vacuum analyze')
}

/**
 * Bulk loading is much faster with the secondary indexes built afterwards: drops the events
 * indexes that are not constraints, returning the statements that recreate them.
 */
async function dropSecondaryIndexes(query: (text: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<string[]> {
  const defs = (
    await query(`select indexname, indexdef from pg_indexes i where tablename = 'events'
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`)
  ).rows as { indexname: string; indexdef: string }[]
  for (const d of defs) await query(`drop index ${d.indexname}`)
  return defs.map((d) => d.indexdef)
}

async function seed(store: StoreKind): Promise<{ dataDir: string; databaseUrl?: string; seeded: Seeded; seconds: number; bytes: string }> {
  const fresh = await freshStore(store)
  const migrated = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
  await migrated.close()
  const t0 = now()
  let seeded: Seeded
  let bytes: string
  if (store === 'postgres') {
    const c = new pg.Client({ connectionString: fresh.databaseUrl })
    await c.connect()
    const exec = (text: string, params?: unknown[]) => c.query(text, params)
    await seedWorld(exec)
    const indexes = await dropSecondaryIndexes((t) => c.query(t))
    seeded = await seedEvents(EVENTS, async (cols) => void (await c.query(UNNEST_EVENTS, cols)))
    for (const def of indexes) await c.query(def)
    await finishSeed(exec, seeded, fresh.dataDir)
    bytes = (await c.query(`select pg_size_pretty(pg_total_relation_size('events')) as s`)).rows[0].s
    await c.end()
  } else {
    const db = await PGlite.create(path.join(fresh.dataDir, 'pg'))
    const exec = (text: string, params?: unknown[]) => (params ? db.query(text, params) : db.exec(text))
    await seedWorld(exec)
    const indexes = await dropSecondaryIndexes((t) => db.query<Record<string, unknown>>(t))
    seeded = await seedEvents(EVENTS, async (cols) => void (await db.query(UNNEST_EVENTS, cols)))
    for (const def of indexes) await db.exec(def)
    await finishSeed(exec, seeded, fresh.dataDir)
    bytes = ((await db.query<{ s: string }>(`select pg_size_pretty(pg_total_relation_size('events')) as s`)).rows[0]!.s)
    await db.close()
  }
  return { ...fresh, seeded, seconds: ms(now() - t0) / 1000, bytes }
}

interface Case {
  readonly name: string
  readonly api: 'v3' | 'v2'
  readonly caller: 'admin' | 'space_developer' | 'org_auditor' | 'developer_50_spaces'
  readonly path: string
  readonly filter: EventFilter
  readonly order: EventOrder
  readonly page: number
  readonly perPage: number
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

function cases(s: Seeded, scopes: Record<Case['caller'], EventScope>): Case[] {
  const all = scopes.admin
  const app = appGuid(1234)
  const space = spaceGuid(123)
  const org = orgGuid(12)
  const recent = new Date(s.last.getTime() - 3_600_000) // the last hour
  const oldest = new Date(s.first.getTime() + 86_400_000) // the first day
  const midFrom = new Date(s.first.getTime() + 14 * 86_400_000)
  const midTo = new Date(midFrom.getTime() + 86_400_000)
  const seqAsc: EventOrder = { kind: 'seq', direction: 'asc' }
  const timeDesc: EventOrder = { kind: 'created_at', direction: 'desc', tiebreak: 'guid' }
  const v2Asc: EventOrder = { kind: 'created_at', direction: 'asc', tiebreak: 'seq' }
  const v2Desc: EventOrder = { kind: 'created_at', direction: 'desc', tiebreak: 'seq' }
  const none: EventFilter = { scope: all, conditions: [], createdAt: [] }
  const c = (name: string, api: Case['api'], path: string, filter: Partial<EventFilter>, order: EventOrder, opts: Partial<Case> = {}): Case => ({
    name,
    api,
    caller: 'admin',
    path,
    filter: { ...none, ...filter },
    order,
    page: 1,
    perPage: 50,
    ...opts,
  })
  const v3 = '/v3/audit_events'
  const v2 = '/v2/events'
  return [
    c('v3 no filter', 'v3', v3, {}, seqAsc),
    c('v3 order_by=-created_at', 'v3', `${v3}?order_by=-created_at`, {}, timeDesc),
    c('v3 types (25%)', 'v3', `${v3}?types=audit.app.update`, { conditions: [{ column: 'type', op: 'in', values: ['audit.app.update'] }] }, seqAsc),
    c('v3 types (0.1%)', 'v3', `${v3}?types=audit.app.task.cancel`, { conditions: [{ column: 'type', op: 'in', values: ['audit.app.task.cancel'] }] }, seqAsc),
    c('v3 target_guids (cf events)', 'v3', `${v3}?target_guids=${app}&order_by=-created_at`, { conditions: [{ column: 'actee', op: 'in', values: [app] }] }, timeDesc),
    c('v3 target_guids[not]', 'v3', `${v3}?target_guids[not]=${app}`, { conditions: [{ column: 'actee', op: 'not in', values: [app] }] }, seqAsc),
    c('v3 space_guids', 'v3', `${v3}?space_guids=${space}`, { conditions: [{ column: 'space_guid', op: 'in', values: [space] }] }, seqAsc),
    c('v3 organization_guids', 'v3', `${v3}?organization_guids=${org}`, { conditions: [{ column: 'organization_guid', op: 'in', values: [org] }] }, seqAsc),
    c('v3 guids', 'v3', `${v3}?guids=${uuid(1, 9)},${uuid(2, 9)}`, { conditions: [{ column: 'guid', op: 'in', values: [uuid(1, 9), uuid(2, 9)] }] }, seqAsc),
    c('v3 created_ats[gt] last hour', 'v3', `${v3}?created_ats[gt]=${iso(recent)}`, { createdAt: [{ gt: [new Date(iso(recent))] }] }, seqAsc),
    c('v3 created_ats[lt] first day', 'v3', `${v3}?created_ats[lt]=${iso(oldest)}`, { createdAt: [{ lt: [new Date(iso(oldest))] }] }, seqAsc),
    c('v3 created_ats one mid day', 'v3', `${v3}?created_ats[gte]=${iso(midFrom)}&created_ats[lt]=${iso(midTo)}`, { createdAt: [{ gte: [new Date(iso(midFrom))], lt: [new Date(iso(midTo))] }] }, seqAsc),
    c('v3 types+space+-created_at', 'v3', `${v3}?types=audit.app.update&space_guids=${space}&order_by=-created_at`, {
      conditions: [{ column: 'type', op: 'in', values: ['audit.app.update'] }, { column: 'space_guid', op: 'in', values: [space] }],
    }, timeDesc),
    c('v3 page 200', 'v3', `${v3}?page=200`, {}, seqAsc, { page: 200 }),
    c('v3 per_page=5000', 'v3', `${v3}?per_page=5000`, {}, seqAsc, { perPage: 5000 }),
    c('v3 space developer (1 space)', 'v3', v3, { scope: scopes.space_developer }, seqAsc, { caller: 'space_developer' }),
    c('v3 org auditor (1 org)', 'v3', v3, { scope: scopes.org_auditor }, seqAsc, { caller: 'org_auditor' }),
    c('v3 developer in 50 spaces', 'v3', `${v3}?order_by=-created_at`, { scope: scopes.developer_50_spaces }, timeDesc, { caller: 'developer_50_spaces' }),
    c('v2 no filter', 'v2', v2, {}, v2Asc),
    c('v2 order-direction=desc', 'v2', `${v2}?order-direction=desc`, {}, v2Desc),
    c('v2 q=type', 'v2', `${v2}?q=type:audit.app.task.create`, { conditions: [{ column: 'type', op: '=', values: ['audit.app.task.create'] }] }, v2Asc),
    c('v2 q=type IN', 'v2', `${v2}?q=${encodeURIComponent('type IN audit.app.start,audit.app.stop')}`, { conditions: [{ column: 'type', op: 'in', values: ['audit.app.start', 'audit.app.stop'] }] }, v2Asc),
    c('v2 q=actee', 'v2', `${v2}?q=actee:${app}`, { conditions: [{ column: 'actee', op: '=', values: [app] }] }, v2Asc),
    c('v2 q=space_guid', 'v2', `${v2}?q=space_guid:${space}`, { conditions: [{ column: 'space_guid', op: '=', values: [space] }] }, v2Asc),
    c('v2 q=organization_guid', 'v2', `${v2}?q=organization_guid:${org}`, { conditions: [{ column: 'organization_guid', op: '=', values: [org] }] }, v2Asc),
    c('v2 q=timestamp> last hour', 'v2', `${v2}?q=${encodeURIComponent(`timestamp>${iso(recent)}`)}`, { createdAt: [{ gt: [new Date(iso(recent))] }] }, v2Asc),
    c('v2 space developer', 'v2', v2, { scope: scopes.space_developer }, v2Asc, { caller: 'space_developer' }),
  ]
}

async function timeIt(iterations: number, op: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < WARMUP; i++) await op()
  const samples: number[] = []
  for (let i = 0; i < iterations; i++) {
    const t = now()
    await op()
    samples.push(ms(now() - t))
  }
  return summarize(samples)
}

/** The raw SQL of each case (runListQueries: the count and page queries the endpoint runs), through the server's own driver, in-process. */
async function measureRaw(store: { dataDir: string; databaseUrl?: string }, list: readonly Case[]) {
  const s = await openStore({ databaseUrl: store.databaseUrl, dataDir: store.dataDir })
  const out = new Map<string, { summary: Summary; how: string; total: number }>()
  try {
    for (const k of list) {
      let how = ''
      let total = 0
      const counted = await countEventsHow(s.db as Db, k.filter)
      how = counted.how
      const summary = await timeIt(ITERATIONS, async () => {
        total = (await runListQueries(s.db, k.filter, { page: k.page, perPage: k.perPage }, k.order)).total
      })
      out.set(k.name, { summary, how, total })
    }
  } finally {
    await s.close()
  }
  return out
}

async function measureHttp(store: StoreKind, fresh: { dataDir: string; databaseUrl?: string }, list: (callers: Record<Case['caller'], string[]>) => Case[]) {
  const server = await startServer(store, { dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl, env: { CF_LEDGER_PRUNE_AT: 'off' } })
  try {
    const admin = await new Api(server.url).admin()
    const dev = await createUser(admin, 'bench-dev')
    await grant(admin, 'organization_user', dev.guid, { org: orgGuid(12) })
    await grant(admin, 'space_developer', dev.guid, { space: spaceGuid(123) })
    const auditor = await createUser(admin, 'bench-auditor')
    await grant(admin, 'organization_auditor', auditor.guid, { org: orgGuid(12) })
    const dev50 = await createUser(admin, 'bench-dev50')
    const spaces50: string[] = []
    for (let o = 20; o < 25; o++) {
      await grant(admin, 'organization_user', dev50.guid, { org: orgGuid(o) })
      for (let s = 0; s < SPACES_PER_ORG; s++) {
        const g = spaceGuid(o * SPACES_PER_ORG + s)
        await grant(admin, 'space_developer', dev50.guid, { space: g })
        spaces50.push(g)
      }
    }
    const apis = { admin, space_developer: dev.api, org_auditor: auditor.api, developer_50_spaces: dev50.api }
    const cs = list({ admin: [], space_developer: [spaceGuid(123)], org_auditor: [orgGuid(12)], developer_50_spaces: spaces50 })
    const out = new Map<string, { summary: Summary; total: number }>()
    for (const k of cs) {
      let total = 0
      const summary = await timeIt(ITERATIONS, async () => {
        const r = expectOk(await apis[k.caller].get(k.path))
        total = k.api === 'v3' ? r.body.pagination.total_results : r.body.total_results
      })
      out.set(k.name, { summary, total })
    }
    return { out, cases: cs }
  } finally {
    await server.stop()
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-audit-'))
process.env.CF_LEDGER_TEST_TMP = tmp
const cluster = STORES.includes('postgres') ? startCluster(path.join(os.tmpdir(), `cf-ledger-bench-pg-${PORT}`), PORT) : undefined
if (cluster) process.env.TEST_DATABASE_URL = cluster.url
const results: Record<string, unknown>[] = []
try {
  console.log(`\nAudit events: ${EVENTS.toLocaleString('en')} seeded events; ${ITERATIONS} timed requests per case after ${WARMUP} warm-up`)
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  for (const store of STORES) {
    const seeded = await seed(store)
    console.log(`${store}: seeded ${EVENTS.toLocaleString('en')} events in ${seeded.seconds.toFixed(0)} s; events table and indexes: ${seeded.bytes}`)
    const scopes = (callers: Record<Case['caller'], string[]>): Record<Case['caller'], EventScope> => ({
      admin: { all: true },
      space_developer: { all: false, spaces: callers.space_developer, orgs: [] },
      org_auditor: { all: false, spaces: [], orgs: callers.org_auditor },
      developer_50_spaces: { all: false, spaces: callers.developer_50_spaces, orgs: [] },
    })
    // HTTP first (the server creates the callers and their roles), then the raw SQL on the
    // stopped store, with the same scopes.
    const http = await measureHttp(store, seeded, (callers) => cases(seeded.seeded, scopes(callers)))
    const raw = await measureRaw(seeded, http.cases)
    const rows: (string | number)[][] = []
    for (const k of http.cases) {
      const h = http.out.get(k.name)!
      const r = raw.get(k.name)!
      if (h.total !== r.total) throw new Error(`${k.name}: the endpoint counted ${h.total}, the raw SQL ${r.total}`)
      rows.push([k.name, h.summary.p50, h.summary.p99, r.summary.p50, r.summary.p99, h.summary.p50 / r.summary.p50, r.total, r.how])
      results.push({ store, events: EVENTS, case: k.name, endpoint: h.summary, raw: r.summary, total: r.total, counted: r.how })
    }
    console.log()
    table([`${store} (ms)`, 'http p50', 'http p99', 'sql p50', 'sql p99', 'x p50', 'total', 'count'], rows)
    console.log()
    if (VERIFY) {
      const t = now()
      const env: NodeJS.ProcessEnv = { ...process.env }
      delete env.DATABASE_URL
      if (seeded.databaseUrl) env.DATABASE_URL = seeded.databaseUrl
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'src/cli/main.ts'), 'verify', '--data-dir', seeded.dataDir], { env, encoding: 'utf8' })
      const seconds = ms(now() - t) / 1000
      console.log(`${store}: cf-ledger verify took ${seconds.toFixed(1)} s (exit ${r.status}): ${r.stdout.trim().split('\n')[0]}`)
      results.push({ store, events: EVENTS, case: 'verify', seconds, exit: r.status })
    }
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ at: new Date().toISOString(), loadavg: os.loadavg(), results }, null, 2))
} finally {
  cluster?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}

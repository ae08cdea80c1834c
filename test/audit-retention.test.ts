// Retention: pruning archives events into gzip NDJSON segments before deleting them, survives a
// crash between the archive write and the delete (and right after the delete) without losing or
// duplicating an event, and verify checks the archives and the remaining table. The store has a
// chained history (as one upgraded from before migration 0017) and then the API's unchained
// events: chain segments come first, in seq order, then leaf segments in the log's leaf order.
// The `verify` command runs once, on the pruned ledger; the other checks call its check in process.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { readSegment, type ArchivedEvent } from '../src/audit/archive.ts'
import { onStore, runVerify, storeWithChainedHistory, verifyThrough } from './support/audit.ts'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const BATCH = 7
const CHAINED = 10

/** Starts a server that is expected to kill itself (fault injection) and waits for it to die. */
async function runUntilFault(server: () => Promise<TestServer>): Promise<void> {
  let s: TestServer
  try {
    s = await server()
  } catch (err) {
    assert.match((err as Error).message, /exited with null before listening/)
    return
  }
  const deadline = Date.now() + 60_000
  while (s.process.exitCode === null && s.process.signalCode === null) {
    if (Date.now() > deadline) throw new Error('the server did not hit its fault point')
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(s.process.signalCode, 'SIGKILL')
}

function archivedEvents(archiveDir: string, files: string[]): ArchivedEvent[] {
  return files.flatMap((f) => readSegment(archiveDir, f).events)
}

for (const store of stores()) {
  describe(`audit event retention with archives [${store}]`, () => {
    let first: TestServer
    let total: number
    const live: TestServer[] = []
    after(async () => {
      for (const s of live) await s.stop()
    })

    const pruneEnv = (fault?: string) => ({
      CF_LEDGER_EVENTS_CUTOFF_DAYS: '0',
      CF_LEDGER_PRUNE_INTERVAL: '3600',
      CF_LEDGER_PRUNE_BATCH_SIZE: String(BATCH),
      ...(fault ? { CF_LEDGER_FAULT: fault } : {}),
    })
    const archiveDir = () => path.join(first.dataDir, 'archive')
    const segments = () => (fs.existsSync(archiveDir()) ? fs.readdirSync(archiveDir()).filter((f) => f.endsWith('.ndjson.gz')).sort() : [])
    const store_ = () => ({ dataDir: first.dataDir, databaseUrl: first.databaseUrl })

    before(async () => {
      first = await startServer(store, await storeWithChainedHistory(store, CHAINED))
      const admin = await new Api(first.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'retained', 'space')
      for (let i = 0; i < 10; i++) expectOk(await admin.patch(`/v3/organizations/${orgGuid}`, { metadata: { labels: { i: String(i) } } }))
      for (let i = 0; i < 10; i++) expectOk(await admin.patch(`/v3/spaces/${spaceGuid}`, { metadata: { labels: { i: String(i) } } }))
      total = expectOk(await admin.get('/v3/audit_events?per_page=1')).body.pagination.total_results
      assert.equal(total, CHAINED + 22)
      await first.stop()
    })

    it('keeps every event when killed between writing a segment and deleting its events', async () => {
      await runUntilFault(() => startServer(store, { dataDir: first.dataDir, databaseUrl: first.databaseUrl, env: pruneEnv('prune-after-archive') }))
      assert.deepEqual(segments(), ['events-000000000001-000000000007.ndjson.gz'])
      const state = await onStore(store_(), async (q) => ({
        events: Number((await q('select count(*) as n from events'))[0]!.n),
        recorded: Number((await q('select count(*) as n from ledger_archives'))[0]!.n),
      }))
      assert.deepEqual(state, { events: total, recorded: 0 })
      const report = await onStore(store_(), (q) => verifyThrough(q, first.dataDir))
      assert.equal(report.ok, true, JSON.stringify(report.problems))
      assert.ok(report.warnings.some((w) => /not recorded in ledger_archives/.test(w)), JSON.stringify(report.warnings))
      assert.equal(report.stats.tableEvents, total)
    })

    it('keeps every event when killed right after a batch was committed', async () => {
      await runUntilFault(() => startServer(store, { dataDir: first.dataDir, databaseUrl: first.databaseUrl, env: pruneEnv('prune-after-delete') }))
      // The interrupted run's orphan was replaced by the same batch, now recorded.
      assert.deepEqual(segments(), ['events-000000000001-000000000007.ndjson.gz'])
      const state = await onStore(store_(), async (q) => ({
        min: Number((await q('select min(seq) as n from events'))[0]!.n),
        events: Number((await q('select count(*) as n from events'))[0]!.n),
        recorded: (await q('select first_seq, last_seq, event_count from ledger_archives')).map((r) => [Number(r.first_seq), Number(r.last_seq), Number(r.event_count)]),
      }))
      assert.deepEqual(state, { min: 8, events: total - 7, recorded: [[1, 7, 7]] })
      const report = await onStore(store_(), (q) => verifyThrough(q, first.dataDir))
      assert.equal(report.ok, true, JSON.stringify(report.problems))
      assert.deepEqual([report.stats.archivedEvents, report.stats.tableEvents, report.stats.segments], [7, total - 7, 1])
    })

    it('finishes pruning after the crashes: each event archived exactly once, and the chain goes on', async () => {
      const server = await startServer(store, { dataDir: first.dataDir, databaseUrl: first.databaseUrl, env: pruneEnv() })
      live.push(server)
      const admin = await new Api(server.url).admin()
      // Pruning runs at start; wait for it to empty the table.
      for (let i = 0; i < 100; i++) {
        if (expectOk(await admin.get('/v3/audit_events?per_page=1')).body.pagination.total_results === 0) break
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.equal(expectOk(await admin.get('/v3/audit_events')).body.pagination.total_results, 0)
      assert.equal(expectOk(await admin.get('/v2/events')).body.total_results, 0)
      const o = expectOk(await admin.post('/v3/organizations', { name: 'after-pruning' }), 201).body
      const listed = expectOk(await admin.get('/v3/audit_events')).body
      assert.equal(listed.pagination.total_results, 1)
      assert.equal(listed.resources[0].target.guid, o.guid)
      await server.stop()
      live.length = 0

      const files = segments()
      assert.deepEqual(files, [
        'events-000000000001-000000000007.ndjson.gz',
        'events-000000000008-000000000010.ndjson.gz',
        'events-leaves-000000000010-000000000016.ndjson.gz',
        'events-leaves-000000000017-000000000023.ndjson.gz',
        'events-leaves-000000000024-000000000030.ndjson.gz',
        'events-leaves-000000000031-000000000031.ndjson.gz',
      ])
      const archived = archivedEvents(archiveDir(), files)
      assert.deepEqual(archived.map((e) => e.seq), Array.from({ length: total }, (_, i) => i + 1))
      assert.deepEqual(archived.slice(CHAINED).map((e) => [e.leaf_index, e.hash]), Array.from({ length: total - CHAINED }, (_, i) => [CHAINED + i, null]))
      const sidecar = JSON.parse(fs.readFileSync(path.join(archiveDir(), `${files[1]}.json`), 'utf8'))
      assert.deepEqual(Object.keys(sidecar), ['first_seq', 'last_seq', 'event_count', 'file', 'sha256', 'anchor_hash', 'last_hash', 'first_leaf', 'last_leaf', 'archived_at'])
      assert.equal(sidecar.anchor_hash, archivedEvents(archiveDir(), [files[0]!]).at(-1)!.hash)
      const leafSidecar = JSON.parse(fs.readFileSync(path.join(archiveDir(), `${files[3]}.json`), 'utf8'))
      assert.deepEqual([leafSidecar.first_leaf, leafSidecar.last_leaf, leafSidecar.anchor_hash, leafSidecar.event_count], [17, 23, null, 7])
      const next = await onStore(store_(), async (q) => (await q('select seq, prev_hash, (select leaf_index from ledger_leaves where event_seq = seq) as leaf from events'))[0]!)
      assert.equal(Number(next.seq), total + 1)
      assert.equal(next.prev_hash, null, 'new events are unchained')
      assert.equal(Number(next.leaf), total)

      const r = await runVerify(store_())
      assert.equal(r.code, 0, r.out)
      assert.deepEqual([r.report!.stats.segments, r.report!.stats.archivedEvents, r.report!.stats.tableEvents], [6, total, 1])
      assert.equal(r.report!.stats.log!.leaves, total + 1, 'archived events were checked against their leaves too')
      assert.ok(r.report!.stats.checkpoints! >= 1, 'checkpoints over archived events still verify')
    })

    it('detects an altered or missing archive segment', async () => {
      const files = segments()
      // The archives, keys and checkpoint copy of the data directory, altered; the database as it is.
      const copyOfFiles = () => {
        const dir = fs.mkdtempSync(`${first.dataDir}-files-`)
        fs.cpSync(first.dataDir, dir, { recursive: true, filter: (src) => !src.startsWith(path.join(first.dataDir, 'pg')) })
        return dir
      }
      const alter = (name: string, line: number) => {
        const dir = copyOfFiles()
        const file = path.join(dir, 'archive', name)
        const lines = zlib.gunzipSync(fs.readFileSync(file)).toString().trim().split('\n')
        const e = JSON.parse(lines[line]!)
        e.actor_name = 'mallory'
        lines[line] = JSON.stringify(e)
        fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'))
        return { dir, seq: e.seq as number }
      }
      const kindsIn = async (dir: string) => {
        const r = await onStore(store_(), (q) => verifyThrough(q, dir))
        assert.equal(r.ok, false)
        return r.problems.map((p) => `${p.kind}@${p.seq}`)
      }
      // A chain segment: its file hash, and the chain walk names the event.
      const chainEdit = alter(files[1]!, 2)
      const kinds = await kindsIn(chainEdit.dir)
      assert.ok(kinds.includes('archive@8'), kinds.join(' '))
      assert.ok(kinds.includes(`edited@${chainEdit.seq}`), kinds.join(' '))
      // A leaf segment: its file hash, and the event no longer hashes to its leaf.
      const leafEdit = alter(files[3]!, 1)
      const leafKinds = await kindsIn(leafEdit.dir)
      assert.ok(leafKinds.includes('archive@18'), leafKinds.join(' '))
      assert.ok(leafKinds.includes(`tile@${leafEdit.seq}`), leafKinds.join(' '))

      for (const [name, range] of [[files[0]!, '1\\.\\.7'], [files[2]!, '11\\.\\.17']] as const) {
        const missing = copyOfFiles()
        fs.rmSync(path.join(missing, 'archive', name))
        const m = await onStore(store_(), (q) => verifyThrough(q, missing))
        assert.equal(m.ok, false)
        assert.equal(m.problems[0]!.kind, 'archive')
        assert.match(m.problems[0]!.message, new RegExp(`events ${range}\\) is missing`))
      }
    })
  })
}

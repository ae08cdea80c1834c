// Audit events written by concurrent requests (on PostgreSQL by two server processes on one
// database): no event is lost or duplicated, each is exactly one leaf of the log, the counters
// agree, and verify passes.
// AUDIT_STRESS_EVENTS overrides the count (default 4000 on PostgreSQL, 1500 embedded, whose
// single-connection store serialises every request anyway; AUDIT_STRESS_EVENTS=100000 is the 100k run).
// What finds a race is 48 callers contending on every append, not the total: the defaults keep
// each caller's 30–80 appends and the suite's time in budget.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { onStore, runVerify } from './support/audit.ts'
import { Api, expectOk } from './support/client.ts'
import { freshStore, startServer, stores, type TestServer } from './support/server.ts'

for (const store of stores()) {
  const total = Number(process.env.AUDIT_STRESS_EVENTS ?? (store === 'postgres' ? 4_000 : 1_500))
  describe(`audit ledger under concurrent writers [${store}]`, () => {
    const servers: TestServer[] = []
    after(async () => {
      for (const s of servers) await s.stop()
    })

    it(`appends ${total} events from concurrent requests each exactly once and one leaf; verify passes`, async () => {
      const fresh = await freshStore(store)
      if (fresh.databaseUrl) {
        // Durability is not under test; without it each append's commit does not wait for a WAL flush.
        const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
        await c.connect()
        await c.query(`alter database ${new URL(fresh.databaseUrl).pathname.slice(1)} set synchronous_commit = off`)
        await c.end()
      }
      // A long token lifetime: on a loaded machine the run can outlast the default 20 minutes.
      const env = { CF_LEDGER_CHECKPOINT_INTERVAL: '2', CF_LEDGER_ACCESS_TOKEN_TTL: '86400' }
      const first = await startServer(store, { env, ...fresh })
      servers.push(first)
      // PostgreSQL: a second server process on the same database appends concurrently.
      if (store === 'postgres') servers.push(await startServer(store, { env, ...fresh }))
      const apis = await Promise.all(servers.map(async (s) => new Api(s.url).admin()))
      const orgs: string[] = []
      for (let i = 0; i < 64; i++) orgs.push(expectOk(await apis[0]!.post('/v3/organizations', { name: `stress-${i}` }), 201).body.guid)
      const before = expectOk(await apis[0]!.get('/v3/audit_events?per_page=1')).body.pagination.total_results as number
      let next = 0
      const started = Date.now()
      const worker = async (w: number) => {
        const api = apis[w % apis.length]!
        for (let i = next++; i < total; i = next++) {
          const r = await api.patch(`/v3/organizations/${orgs[i % orgs.length]}`, { metadata: { annotations: { i: String(i) } } })
          if (r.status !== 200) throw new Error(`request ${i}: ${r.status} ${JSON.stringify(r.body)}`)
        }
      }
      await Promise.all(Array.from({ length: 48 }, (_, w) => worker(w)))
      const seconds = (Date.now() - started) / 1000
      console.log(`# ${total} events in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s) on ${servers.length} server(s)`)
      const after = expectOk(await apis[0]!.get('/v3/audit_events?per_page=1')).body.pagination.total_results as number
      assert.equal(after - before, total)
      for (const s of servers) await s.stop()
      servers.length = 0
      const stats = await onStore(fresh, async (q) => ({
        count: Number((await q('select count(*) as n from events'))[0]!.n),
        guids: Number((await q('select count(distinct guid) as n from events'))[0]!.n),
        // The clean stop's last pass integrated everything: each event one leaf, no leaf twice.
        leaves: Number((await q('select count(*) as n from ledger_leaves l join events e on e.seq = l.event_seq'))[0]!.n),
        leafRows: Number((await q('select count(*) as n from ledger_leaves where event_seq is not null'))[0]!.n),
        counted: Number((await q('select (select n from event_totals) + (select coalesce(sum(n), 0) from event_count_deltas) as n'))[0]!.n),
      }))
      const n = before + total
      assert.deepEqual(stats, { count: n, guids: n, leaves: n, leafRows: n, counted: n })
      const r = await runVerify(fresh)
      assert.equal(r.code, 0, r.out.slice(0, 2000))
      assert.equal(r.report!.stats.tableEvents, before + total)
      assert.ok(r.report!.stats.log!.checkpoints >= 2)
    })
  })
}

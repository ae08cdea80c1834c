// The stored log: events become leaves skip-free (events from before the log first, in seq
// order), tiles in the database give proofs that verify for every event, the database refuses
// a rewritten tile or a checkpoint that does not grow, and (PostgreSQL) transactions that commit
// out of order are integrated late, never skipped.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { CompiledQuery, sql } from 'kysely'
import pg from 'pg'
import { openCheckpoint } from '../src/ledger/checkpoint.ts'
import { integrateAll } from '../src/ledger/integrator.ts'
import { eventEntry } from '../src/ledger/leaf.ts'
import { signCheckpoint } from '../src/ledger/log.ts'
import { dbNodeReader, latestCheckpoint, logState, readTiles } from '../src/ledger/log-store.ts'
import { inclusionProof, leafHash, treeRoot, verifyInclusion } from '../src/ledger/merkle.ts'
import { signerFromSeed, skeyOf } from '../src/ledger/note.ts'
import { edgeTiles, tileReader } from '../src/ledger/tiles.ts'
import { verifyLog, type ArchivedLookup } from '../src/ledger/verify-log.ts'
import type { ParallelLeaves } from '../src/ledger/verify-leaves-pool.ts'
import type { ArchivedEvent } from '../src/audit/archive.ts'
import { openSnapshotQuery } from '../src/cli/snapshot-query.ts'
import { openStore, type Store } from '../src/store/store.ts'
import { freshStore, stores } from './support/server.ts'
import { until } from './support/wait.ts'

const ORIGIN = 'cf-ledger/test'
const SEED = crypto.randomBytes(32)
const signer = signerFromSeed(ORIGIN, SEED)

/** Inserts events the way an append without the head lock would: each in the caller's transaction. */
const insertEvents = (db: Store['db'], from: number, n: number, legacy = false) =>
  sql`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
    actee_name, metadata, space_guid, organization_guid, prev_hash, hash${legacy ? sql`, xid` : sql``})
    select s, gen_random_uuid()::text, now(), 'audit.app.update', 'actor', 'user', 'name', 'user', 'app-' || s, 'app', 'a',
      jsonb_build_object('n', s), 'space', 'org', 'p', 'h'${legacy ? sql`, null` : sql``}
    from generate_series(${from}::bigint, ${from + n - 1}::bigint) s`.execute(db)

async function leaves(db: Store['db']) {
  return (await sql<{ leaf_index: string; event_seq: string }>`select leaf_index, event_seq from ledger_leaves order by leaf_index`.execute(db)).rows.map((r) => ({
    index: Number(r.leaf_index),
    seq: Number(r.event_seq),
  }))
}

for (const store of stores()) {
  describe(`ledger log [${store}]`, () => {
    let s: Store
    let url: string | undefined
    before(async () => {
      const fresh = await freshStore(store)
      url = fresh.databaseUrl
      s = await openStore({ databaseUrl: undefined, ...fresh })
    })
    after(() => s.close())

    it('integrates legacy events first in seq order, then new ones, each once', async () => {
      await insertEvents(s.db, 1, 300, true)
      await insertEvents(s.db, 301, 2700)
      assert.equal(await integrateAll(s.db, 1000), 3000)
      assert.equal(await integrateAll(s.db), 0, 'nothing twice')
      const ls = await leaves(s.db)
      assert.deepEqual(ls.map((l) => l.index), Array.from({ length: 3000 }, (_, i) => i), 'leaf indices have no gap')
      assert.deepEqual(ls.slice(0, 300).map((l) => l.seq), Array.from({ length: 300 }, (_, i) => i + 1), 'legacy events first, in seq order')
      assert.equal(new Set(ls.map((l) => l.seq)).size, 3000)
      assert.equal((await logState(s.db)).size, 3000)
    })

    it('signs a checkpoint whose inclusion proofs verify for every event, from tiles in the database', async () => {
      const cp = await signCheckpoint(s.db, signer, ORIGIN)
      assert.ok(cp)
      assert.equal(await signCheckpoint(s.db, signer, ORIGIN), undefined, 'nothing new, no checkpoint')
      const opened = openCheckpoint((await latestCheckpoint(s.db))!.note, ORIGIN, [signer.verifier])
      assert.equal(opened.size, 3000)
      const events = (await sql<Parameters<typeof eventEntry>[0] & { leaf_index: string }>`
        select l.leaf_index, e.* from ledger_leaves l join events e on e.seq = l.event_seq order by l.leaf_index`.execute(s.db)).rows
      // All tiles read once, then every proof from them; a sample also straight from the database.
      const all = await readTiles(s.db, [0, 1].flatMap((level) => Array.from({ length: 12 }, (_, index) => ({ level, index }))))
      const cached = tileReader(async () => all)
      for (const e of events) {
        const index = Number(e.leaf_index)
        const leaf = leafHash(eventEntry({ ...e, seq: Number(e.seq), created_at: new Date(e.created_at) }))
        verifyInclusion(index, opened.size, leaf, await inclusionProof(index, opened.size, index % 97 === 0 ? dbNodeReader(s.db) : cached), opened.root)
      }
    })

    it('proves at every size while the log grows: a cached right-edge tile serves only proofs it is wide enough for', async () => {
      const reader = dbNodeReader(s.db)
      const roots = new Map<number, Buffer>()
      const rootAt = (n: number) => treeRoot(n, reader)
      let seq = 100_000
      let expected = (await logState(s.db)).size
      const grow = async (n: number) => {
        await insertEvents(s.db, seq, n)
        seq += n
        expected += n
        // The horizon is cluster-wide: another suite's open transaction can hold integration back a moment.
        await until('the new events integrated', async () => (await integrateAll(s.db)) >= 0 && (await logState(s.db)).size === expected, 30_000)
      }
      // Sizes that end inside one level-0 tile and then cross into the next; each root is taken
      // while the edge tile is as wide as that size, so a proof for it reads that width or wider.
      for (const n of [10, 5, 60, 190, 1]) {
        const size = (await logState(s.db)).size
        roots.set(size, await rootAt(size))
        await grow(n)
      }
      // Two integrations with no proof between them: the second must read the edge the first wrote.
      for (const n of [7, 9]) await grow(n)
      const size = (await logState(s.db)).size
      roots.set(size, await rootAt(size))
      const leafAt = async (i: number) => (await readTiles(s.db, [{ level: 0, index: Math.floor(i / 256) }])).get(`0/${Math.floor(i / 256)}`)!.subarray((i % 256) * 32, (i % 256 + 1) * 32)
      for (const [n, root] of roots) {
        for (const i of [0, n - 1, Math.floor(n / 2), 2999, 3000].filter((i) => i < n)) verifyInclusion(i, n, await leafAt(i), await inclusionProof(i, n, reader), root)
      }
      // Every earlier root is still the root of that size: the proofs above read no stale edge.
      for (const [n, root] of roots) assert.ok((await rootAt(n)).equals(root), `root at ${n}`)
    })

    it('refuses in the database a rewritten tile and a checkpoint that does not grow', async () => {
      await assert.rejects(sql`update ledger_tiles set hashes = set_byte(hashes, 0, get_byte(hashes, 0) # 255) where level = 0 and idx = 0`.execute(s.db), /may only grow/)
      await assert.rejects(
        sql`insert into ledger_log_checkpoints (size, root, note, vkey, signed_at) select 10, root, note, vkey, now() from ledger_log_checkpoints limit 1`.execute(s.db),
        /checkpoint size/,
      )
      await assert.rejects(sql`update ledger_log_checkpoints set root = '\\x00'::bytea`.execute(s.db), /cannot change/)
      assert.deepEqual(edgeTiles(3000).map((t) => t.width), [184, 11])
    })

    it('verify names an event changed after it was logged, a rewritten tile and a checkpoint the tiles no longer give', async () => {
      const q = async <T>(text: string, params: unknown[] = []) => (await s.db.executeQuery(CompiledQuery.raw(text, params))).rows as T[]
      const problems = async () => (await verifyLog(q, { archived: () => undefined, logKey: skeyOf(ORIGIN, SEED) }))!.problems.map((p) => p.message)
      assert.deepEqual(await problems(), [])
      await sql`update events set actee_name = 'edited' where seq = 7`.execute(s.db)
      assert.match((await problems())[0]!, /event seq 7 .* was changed after it was logged/)
      await sql`update events set actee_name = 'a' where seq = 7`.execute(s.db)
      assert.deepEqual(await problems(), [])
      const offTriggers = (stmt: ReturnType<typeof sql>) =>
        s.db.transaction().execute(async (tx) => {
          await sql`set local session_replication_role = replica`.execute(tx)
          await stmt.execute(tx)
        })
      await offTriggers(sql`update ledger_tiles set hashes = set_byte(hashes, 32, get_byte(hashes, 32) # 255) where level = 0 and idx = 0`)
      const found = await problems()
      assert.ok(found.some((m) => /leaf 1\) was changed after it was logged/.test(m)), found.join('\n'))
      assert.ok(found.some((m) => /tile 1\/0 hash 0 does not match|no longer hash to the root/.test(m)), found.join('\n'))
    })

    it('verify splits the leaf pass over worker threads and finds what one thread finds', { skip: store === 'embedded' ? 'the embedded verify reads a copy of the files' : false }, async () => {
      assert.ok(url)
      // The log as the test before left it (a rewritten tile), and: event 20 edited, events 30–33
      // pruned — 30 archived intact, 31 archived edited, 32 in no archive, 33 in a segment that cannot
      // be read — and event 40 archived and still in the table.
      const rows = async (seqs: number[]) =>
        (await sql<ArchivedEvent>`select * from events where seq in (${sql.join(seqs)}) order by seq`.execute(s.db)).rows
      const kept = await rows([20, 30, 31, 32, 33])
      const byLeaf = new Map((await leaves(s.db)).map((l) => [l.seq, l.index]))
      const archive = new Map((await rows([30, 31, 40])).map((e) => [Number(e.seq), { ...e, seq: Number(e.seq), created_at: new Date(e.created_at).toISOString(), leaf_index: byLeaf.get(Number(e.seq)) }]))
      archive.get(31)!.actee_name = 'edited in the archive'
      const archived: ArchivedLookup = (seq) => archive.get(seq) ?? (seq === 33 ? 'unreadable' : undefined)
      const offTriggers = (stmt: ReturnType<typeof sql>) =>
        s.db.transaction().execute(async (tx) => {
          await sql`set local session_replication_role = replica`.execute(tx)
          await stmt.execute(tx)
        })
      await sql`update events set actee_name = 'edited' where seq = 20`.execute(s.db)
      await offTriggers(sql`delete from events where seq in (30, 31, 32, 33)`)
      const snapshot = await openSnapshotQuery(url)
      try {
        const run = (parallel?: ParallelLeaves) =>
          verifyLog(snapshot.q, { archived, archivedSeqs: Float64Array.from(archive.keys()).sort(), logKey: skeyOf(ORIGIN, SEED), parallel })
        const one = (await run())!
        const many = (await run({ databaseUrl: url, snapshot: snapshot.snapshot, workers: 3, minLeaves: 0, batch: 400 }))!
        const messages = (r: typeof one) => r.problems.map((p) => p.message).sort()
        for (const expected of [
          /event seq 20 \(leaf \d+\) was changed after it was logged/,
          /event seq 31 \(leaf \d+, archived\) was changed after it was logged/,
          /event seq 32 \(leaf \d+\) was deleted: the log still holds its leaf/,
          /event seq 40 .* is both archived and still in the table/,
          /leaf 1\) was changed after it was logged/,
        ]) {
          assert.ok(messages(many).some((m) => expected.test(m)), `${expected} in\n${messages(many).join('\n')}`)
        }
        assert.deepEqual(messages(many), messages(one))
        assert.deepEqual(many.warnings, one.warnings)
        assert.ok(one.warnings.some((w) => /^1 leaves belong to events in archive segments that could not be read/.test(w)), one.warnings.join('\n'))
        // Every leaf but the deleted event's and the unreadable one's was checked against an entry.
        assert.equal(one.leaves, (await logState(s.db)).size - 2)
        assert.equal(many.leaves, one.leaves)
      } finally {
        await snapshot.close()
        await sql`update events set actee_name = 'a' where seq = 20`.execute(s.db)
        await offTriggers(sql`insert into events ${sql.raw('')} select * from json_populate_recordset(null::events, ${JSON.stringify(kept.filter((e) => Number(e.seq) !== 20))}::json)`)
      }
    })

    it("verify's connections share one snapshot: a commit made meanwhile is seen by none of them", { skip: store === 'embedded' ? 'the embedded verify reads a copy of the files' : false }, async () => {
      assert.ok(url)
      const snapshot = await openSnapshotQuery(url, 3)
      try {
        const count = async () => Number((await snapshot.q<{ n: string }>('select count(*) as n from events'))[0]!.n)
        const before = await count()
        await insertEvents(s.db, 500_000, 5)
        // Three at once go to three connections; every one still sees the snapshot's rows.
        assert.deepEqual(await Promise.all([count(), count(), count()]), [before, before, before])
        assert.equal(Number((await sql<{ n: string }>`select count(*) as n from events`.execute(s.db)).rows[0]!.n), before + 5)
      } finally {
        await snapshot.close()
      }
      // Integrated before the next test counts leaves (the horizon is cluster-wide).
      const target = (await logState(s.db)).size + 5
      await until('the five events integrated', async () => (await integrateAll(s.db)) >= 0 && (await logState(s.db)).size === target, 30_000)
    })

    it('integrates transactions that commit out of order: late, never skipped', { skip: store === 'embedded' ? 'one session: transactions cannot interleave' : false }, async () => {
      assert.ok(url)
      const a = new pg.Client({ connectionString: url })
      const b = new pg.Client({ connectionString: url })
      await a.connect()
      await b.connect()
      try {
        const before = (await logState(s.db)).size
        await a.query('begin')
        await a.query('select pg_current_xact_id()') // A's transaction is older than B's
        await b.query('begin')
        await b.query(`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
          actee_name, metadata, space_guid, organization_guid, prev_hash, hash)
          values (5002, 'b-event', now(), 'audit.app.update', 'x', 'user', 'n', 'u', 'x', 'app', 'a', '{}', '', '', 'p', 'h')`)
        await b.query('commit')
        assert.equal(await integrateAll(s.db), 0, 'B committed, but A (older) is still running: B waits')
        assert.equal((await logState(s.db)).size, before)
        await a.query(`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
          actee_name, metadata, space_guid, organization_guid, prev_hash, hash)
          values (5001, 'a-event', now(), 'audit.app.update', 'x', 'user', 'n', 'u', 'x', 'app', 'a', '{}', '', '', 'p', 'h')`)
        await a.query('commit')
        // The horizon is the PostgreSQL server's: another test's open transaction may hold it a moment.
        let added = 0
        for (let i = 0; i < 100 && added < 2; i++) {
          added += await integrateAll(s.db)
          if (added < 2) await new Promise((r) => setTimeout(r, 50))
        }
        assert.equal(added, 2)
        const tail = (await leaves(s.db)).slice(before)
        assert.deepEqual(tail, [
          { index: before, seq: 5001 },
          { index: before + 1, seq: 5002 },
        ])
      } finally {
        await a.end()
        await b.end()
      }
    })

    it('keeps numeric xid order where xids get a digit longer (…999 → …1000)', async (t) => {
      const q = async <T>(text: string) => (await s.db.executeQuery(CompiledQuery.raw(text))).rows as T[]
      const xidNow = async () => BigInt((await q<{ x: string }>('select pg_current_xact_id()::text as x'))[0]!.x)
      const start = await xidNow()
      const boundary = 10n ** BigInt(start.toString().length)
      if (boundary - start > 200_000n) return t.skip(`xid ${start} is too far below ${boundary} to reach it quickly`)
      // Each exception block is a subtransaction with its own xid from the same counter.
      await q('create temp table xid_burn (i int)')
      // Stop well short of the boundary: other tests on the same PostgreSQL server draw xids from the same counter meanwhile.
      await q(`do $$ begin for i in 1..${boundary - start - 400n} loop begin insert into xid_burn values (i); exception when others then null; end; end loop; end $$`)
      await integrateAll(s.db)
      const before = (await logState(s.db)).size
      const xids: bigint[] = []
      for (let seq = 7001; xids.length < 1000 && (xids.at(-1) ?? 0n) < boundary + 3n; seq++) {
        await insertEvents(s.db, seq, 1)
        xids.push(BigInt((await q<{ x: string }>(`select xid::text as x from events where seq = ${seq}`))[0]!.x))
      }
      assert.ok(xids[0]! < boundary && xids.at(-1)! >= boundary, `events straddle ${boundary}: ${xids.join(' ')}`)
      assert.equal(await integrateAll(s.db), xids.length)
      assert.equal(await integrateAll(s.db), 0, 'nothing twice')
      const tail = (await leaves(s.db)).slice(before).map((l) => l.seq)
      assert.deepEqual(tail, xids.map((_, i) => 7001 + i), 'leaves in xid order, numerically')
    })
  })
}

// The ledger log (docs/ledger.md) on a throwaway PostgreSQL cluster, each number next to a
// baseline measured in the same run:
//   - integration: events turned into leaves and tiles per second, vs the raw SQL insert of the
//     same events (generate_series);
//   - inclusion proof for a random leaf at the full size, from the stored tiles (what the proof
//     endpoints run, without HTTP), vs one primary-key read of a tile;
//   - consistency proof from size N to N + 1,000 (the core of an incremental `verify --remote`),
//     generated and verified, vs the same tile read;
//   - offline verification of a .tlog-proof (parse, Ed25519, inclusion), vs a bare Ed25519 verify;
//   - `cf-ledger verify` (every leaf against its entry, tiles, checkpoints), vs reading the same rows;
//   - through real servers (bench/ledger-writes.ts): task creations/s at 16 callers on one server
//     and on three, vs the raw SQL of the same transaction with and without the ledger head's row
//     lock, and commit → first signed checkpoint covering the event, p50/p99.
//   node --import tsx bench/ledger.ts [--events 100000] [--iterations 200] [--writes-seconds 5] [--port 55710]
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CompiledQuery, sql } from 'kysely'
import pg from 'pg'
import { checkpointText } from '../src/ledger/checkpoint.ts'
import { integrateAll } from '../src/ledger/integrator.ts'
import { signCheckpoint } from '../src/ledger/log.ts'
import { latestCheckpoint, proveConsistency, proveInclusion, rootAt } from '../src/ledger/log-store.ts'
import { verifyConsistency, verifyInclusion } from '../src/ledger/merkle.ts'
import { signerFromSeed, signNote, skeyOf } from '../src/ledger/note.ts'
import { formatProof, parseProof, verifyProof } from '../src/ledger/proof-file.ts'
import { verifyLedger } from '../src/audit/verify.ts'
import { openSnapshotQuery } from '../src/cli/snapshot-query.ts'
import { parallelLeaves } from '../src/cli/verify.ts'
import { openStore } from '../src/store/store.ts'
import { startCluster } from '../scripts/pg-cluster.ts'
import { measureRemoteVerify } from './ledger-remote.ts'
import { measureWrites } from './ledger-writes.ts'
import { ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ events: '100000', iterations: '200', port: '55710', 'writes-seconds': '5' })
const EVENTS = args.num('events')
const ITERATIONS = args.num('iterations')
const PORT = args.num('port')
const WRITES_SECONDS = args.num('writes-seconds')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-ledger-'))
fs.chmodSync(dir, 0o755) // the cluster runs as the postgres user
const cluster = startCluster(path.join(dir, 'pg'), PORT)
try {
  const admin = new pg.Client({ connectionString: cluster.url })
  await admin.connect()
  await admin.query('create database bench')
  await admin.end()
  const url = cluster.url.replace(/\/[^/]*$/, '/bench')
  const store = await openStore({ databaseUrl: url, dataDir: dir })
  const db = store.db
  const origin = 'bench.example/log'
  const seed = crypto.randomBytes(32)
  const signer = signerFromSeed(origin, seed)

  // Seeding: the raw SQL insert is the baseline for integration.
  const t0 = now()
  for (let from = 1; from <= EVENTS; from += 50_000) {
    const to = Math.min(EVENTS, from + 49_999)
    await sql`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
      actee_name, metadata, space_guid, organization_guid)
      select s, gen_random_uuid()::text, now(), 'audit.app.update', 'actor-' || (s % 500), 'user', 'name', 'user', 'app-' || (s % 1000), 'app', 'a',
        jsonb_build_object('request', jsonb_build_object('n', s)), 'space-' || (s % 100), 'org-' || (s % 10)
      from generate_series(${from}::bigint, ${to}::bigint) s`.execute(db)
  }
  const insertS = ms(now() - t0) / 1000
  const t1 = now()
  await integrateAll(db, 5000)
  const integrateS = ms(now() - t1) / 1000
  await signCheckpoint(db, signer, origin)
  const cp = (await latestCheckpoint(db))!
  // Steady state before timing reads: autovacuum would otherwise pass over the fresh million rows
  // while the proofs and their baseline run (it did, and put 10–30 ms spikes into both).
  await sql`vacuum analyze`.execute(db)
  const size = cp.size

  const timeIt = async (fn: () => Promise<unknown> | unknown) => {
    const samples: number[] = []
    for (let i = 0; i < ITERATIONS + 10; i++) {
      const s = now()
      await fn()
      if (i >= 10) samples.push(ms(now() - s))
    }
    return summarize(samples)
  }
  const rnd = () => Math.floor(Math.random() * size)
  const tileRead = await timeIt(() => sql`select hashes from ledger_tiles where level = 0 and idx = ${Math.floor(rnd() / 256)}`.execute(db))
  const inclusion = await timeIt(async () => {
    const i = rnd()
    await proveInclusion(db, i, size)
  })
  // A tree 1,000 leaves larger: the same events again, integrated, and a second checkpoint.
  await sql`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
    actee_name, metadata, space_guid, organization_guid)
    select s, gen_random_uuid()::text, now(), 'audit.app.update', 'a', 'user', 'n', 'u', 'x', 'app', 'a', '{}'::jsonb, '', ''
    from generate_series(${EVENTS + 1}::bigint, ${EVENTS + 1000}::bigint) s`.execute(db)
  await integrateAll(db)
  const root1 = cp.root
  const root2 = await rootAt(db, size + 1000)
  const consistency = await timeIt(async () => verifyConsistency(size, size + 1000, await proveConsistency(db, size, size + 1000), root1, root2))

  const index = rnd()
  const leaf = (await sql<{ hashes: Buffer }>`select hashes from ledger_tiles where level = 0 and idx = ${Math.floor(index / 256)}`.execute(db)).rows[0]!.hashes
  const leafH = Buffer.from(leaf).subarray((index % 256) * 32, (index % 256 + 1) * 32)
  const note = signNote(checkpointText({ origin, size, root: cp.root }), [signer])
  const file = formatProof({ index, proof: await proveInclusion(db, index, size), checkpoint: note })
  verifyInclusion(index, size, leafH, parseProof(file).proof, cp.root)
  const pub = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: signer.verifier.publicKey.toString('base64url') }, format: 'jwk' })
  const text = Buffer.from(checkpointText({ origin, size, root: cp.root }))
  const sigBytes = Buffer.from(note.split('\n').at(-2)!.split(' ').at(-1)!, 'base64').subarray(4)
  const ed = await timeIt(() => crypto.verify(null, text, pub, sigBytes))
  const offline = await timeIt(() => verifyProof(parseProof(file), leafH, { origin, logKeys: [signer.verifier] }))

  const q = async <T>(t: string, p: unknown[] = []) => (await db.executeQuery(CompiledQuery.raw(t, p))).rows as T[]
  const t2 = now()
  await q('select l.leaf_index, e.* from ledger_leaves l left join events e on e.seq = l.event_seq')
  const readS = ms(now() - t2) / 1000
  // The whole of `cf-ledger verify` as the command runs it: connections sharing one snapshot.
  const snapshot = await openSnapshotQuery(url)
  const t3 = now()
  const report = await verifyLedger(snapshot.q, { archiveDir: path.join(dir, 'no-archive'), trustedKeys: new Map(), logKey: skeyOf(origin, seed), parallel: parallelLeaves(url, snapshot.snapshot) })
  const verifyS = ms(now() - t3) / 1000
  await snapshot.close()
  if (!report.ok || report.stats.log?.leaves !== size + 1000) console.log('unexpected verify findings:', report.problems.slice(0, 3), report.stats)

  console.log(`\nledger log, PostgreSQL, ${EVENTS} events (${size + 1000} leaves after the second batch), ${ITERATIONS} iterations`)
  table(
    ['measure', 'value', 'baseline', 'baseline value', 'ratio'],
    [
      ['integration, events/s', EVENTS / integrateS, 'raw SQL insert, events/s', EVENTS / insertS, insertS / integrateS],
      ['inclusion proof p50 ms', inclusion.p50, 'one tile read p50 ms', tileRead.p50, inclusion.p50 / tileRead.p50],
      ['inclusion proof p99 ms', inclusion.p99, 'one tile read p99 ms', tileRead.p99, inclusion.p99 / tileRead.p99],
      ['consistency +1,000 p50 ms', consistency.p50, 'one tile read p50 ms', tileRead.p50, consistency.p50 / tileRead.p50],
      ['consistency +1,000 p99 ms', consistency.p99, 'one tile read p99 ms', tileRead.p99, consistency.p99 / tileRead.p99],
      ['offline .tlog-proof p50 ms', offline.p50, 'bare Ed25519 verify p50 ms', ed.p50, offline.p50 / ed.p50],
      ['offline .tlog-proof p99 ms', offline.p99, 'bare Ed25519 verify p99 ms', ed.p99, offline.p99 / ed.p99],
      ['cf-ledger verify, s', verifyS, 'reading the same rows, s', readS, verifyS / readS],
    ],
  )

  // Incremental verify --remote: the server on this database integrates and signs what is added.
  await sql`select setval('events_seq_seq', (select max(seq) from events))`.execute(db)
  const remote = await measureRemoteVerify(url, dir, async (n) => {
    await sql`insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name,
      metadata, space_guid, organization_guid)
      select gen_random_uuid()::text, now(), 'audit.app.update', 'a', 'user', 'n', 'u', 'x', 'app', 'a', jsonb_build_object('n', s), '', ''
      from generate_series(1, ${n}::int) s`.execute(db)
  })
  console.log(`\nverify --remote on the same log (a server signing), after each 1,000 new events, ${remote.incremental.n} rounds`)
  table(
    ['measure', 'value', 'baseline', 'baseline value', 'ratio'],
    [
      ['incremental verify --remote p50 ms', remote.incremental.p50, 'GET /ledger/v1/log/checkpoint p50 ms', remote.checkpointGet.p50, remote.incremental.p50 / remote.checkpointGet.p50],
      ['incremental verify --remote p99 ms (≈ max)', remote.incremental.p99, 'GET /ledger/v1/log/checkpoint p99 ms', remote.checkpointGet.p99, remote.incremental.p99 / remote.checkpointGet.p99],
      ['… with --entries p50 ms', remote.withEntries.p50, 'GET /ledger/v1/log/checkpoint p50 ms', remote.checkpointGet.p50, remote.withEntries.p50 / remote.checkpointGet.p50],
      ['… with --entries p99 ms (≈ max)', remote.withEntries.p99, 'GET /ledger/v1/log/checkpoint p99 ms', remote.checkpointGet.p99, remote.withEntries.p99 / remote.checkpointGet.p99],
    ],
  )
  await store.close()

  if (WRITES_SECONDS > 0) {
    process.env.TEST_DATABASE_URL = cluster.url
    const w = await measureWrites(WRITES_SECONDS)
    const { one, three } = w.commitToCheckpoint
    console.log(`\nledger writes, PostgreSQL: task creations with their audit events, ${WRITES_SECONDS} s per phase, 16 callers (one app each)`)
    table(
      ['measure', 'value', 'baseline', 'baseline value', 'ratio'],
      [
        ['creations/s, one server', w.oneServer, 'raw SQL with the head lock, /s', w.rawLocked, w.oneServer / w.rawLocked],
        ['creations/s, three servers', w.threeServers, 'creations/s, one server', w.oneServer, w.threeServers / w.oneServer],
        ['raw SQL with the head lock, /s', w.rawLocked, 'raw SQL without it, /s', w.rawUnlocked, w.rawLocked / w.rawUnlocked],
        ['commit → checkpoint p50 ms, one server', one.p50, 'checkpoint interval ms', 1000, one.p50 / 1000],
        ['commit → checkpoint p99 ms, one server', one.p99, 'checkpoint interval ms', 1000, one.p99 / 1000],
        ['commit → checkpoint p50 ms, three servers', three.p50, 'checkpoint interval ms', 1000, three.p50 / 1000],
        ['commit → checkpoint p99 ms, three servers', three.p99, 'checkpoint interval ms', 1000, three.p99 / 1000],
      ],
    )
  }
} finally {
  cluster.stop()
  fs.rmSync(dir, { recursive: true, force: true })
}

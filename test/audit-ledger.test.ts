// Tamper evidence: signed checkpoints, the log and `cf-ledger verify`. The baseline is a store
// upgraded from the hash chain's era: a chained history seeded before the server's first write,
// then events written through the API after it (unchained: their leaves are their integrity,
// decisions/0010). Copies of it are corrupted each way (edit, delete, insert, reorder, a
// consistent re-hash, a cut tail, a forged or removed checkpoint; an edited, deleted or slipped-in
// unchained event) and verify must name the first bad event. Each corruption and its check run
// inside one transaction that is rolled back, through one connection to the stopped baseline;
// the `verify` command itself runs on the untouched ledger.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventHash } from '../src/audit/chain.ts'
import { onStore, openStore, rows, runVerify, runVerifyText, storeWithChainedHistory, verifyThrough, type Q, type Row } from './support/audit.ts'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { startServer, stores } from './support/server.ts'

for (const store of stores()) {
  describe(`audit ledger tamper evidence [${store}]`, () => {
    let baseline: { dataDir: string; databaseUrl?: string }
    /** The chained history (seq 1..CHAINED), then the API's unchained events. */
    let events: Row[]
    let chained: Row[]
    let unchained: Row[]
    let open: Awaited<ReturnType<typeof openStore>> | undefined
    const K = 5 // the event each chain corruption starts at
    const CHAINED = 20
    after(() => open?.close())

    before(async () => {
      const seeded = await storeWithChainedHistory(store, CHAINED)
      const server = await startServer(store, { env: { CF_LEDGER_CHECKPOINT_INTERVAL: '1' }, ...seeded })
      const admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'tamper', 'space')
      const u = await createUser(admin, 'tamper-user')
      await grant(admin, 'organization_user', u.guid, { org: orgGuid })
      await grant(admin, 'space_auditor', u.guid, { space: spaceGuid })
      for (let i = 0; i < 6; i++) expectOk(await admin.patch(`/v3/organizations/${orgGuid}`, { metadata: { labels: { n: String(i) } } }))
      await new Promise((r) => setTimeout(r, 1500)) // an interval checkpoint
      for (let i = 0; i < 4; i++) expectOk(await admin.patch(`/v3/spaces/${spaceGuid}`, { metadata: { labels: { n: String(i) } } }))
      await server.stop() // a clean stop integrates and signs what is left
      baseline = { dataDir: server.dataDir, databaseUrl: server.databaseUrl }
      events = await onStore(baseline, rows)
      chained = events.filter((e) => e.hash !== null)
      unchained = events.filter((e) => e.hash === null)
      assert.equal(chained.length, CHAINED)
      assert.ok(unchained.length >= 10 && unchained.every((e) => e.seq > CHAINED))
    })

    it('signs checkpoints into the table and the data directory, and verify passes an untouched ledger', async () => {
      const cps = await onStore(baseline, (q) => q('select seq, hash, key_id from ledger_checkpoints order by seq'))
      // The chain's head moves no more: one checkpoint pins the whole chained history.
      assert.ok(cps.length >= 1, `checkpoints: ${JSON.stringify(cps)}`)
      assert.equal(Number(cps.at(-1)!.seq), CHAINED, 'the head, where the chain ended, is signed')
      const logged = fs.readFileSync(path.join(baseline.dataDir, 'checkpoints.ndjson'), 'utf8').trim().split('\n')
      assert.equal(logged.length, cps.length)
      if (store === 'embedded') {
        assert.equal((fs.statSync(path.join(baseline.dataDir, 'checkpoint-key.pem')).mode & 0o777).toString(8), '600')
      } else {
        // PostgreSQL: one key for every server sharing the database (docs/cluster.md), its public key copied here.
        const keys = await onStore(baseline, (q) => q("select key_id from cluster_keys where purpose = 'checkpoint'"))
        assert.deepEqual(keys.map((k) => k.key_id), [cps[0]!.key_id])
        assert.ok(fs.existsSync(path.join(baseline.dataDir, 'checkpoint-keys', `${cps[0]!.key_id}.pub.pem`)))
      }
      const r = await runVerify(baseline)
      assert.equal(r.code, 0, r.out)
      assert.equal(r.report!.ok, true)
      assert.equal(r.report!.stats.tableEvents, events.length)
      assert.equal(r.report!.stats.checkpoints, cps.length)
      assert.equal(r.report!.stats.lastSeq, CHAINED)
      assert.equal(r.report!.stats.log!.leaves, events.length, 'every event, chained or not, is a leaf that matches its entry')
      const text = await runVerifyText(baseline)
      assert.match(text.out, new RegExp(`^cf-ledger verify: OK: 0 archived events in 0 segment\\(s\\), ${events.length} events in the table \\(hash chain seq 1\\.\\.${CHAINED}\\), \\d+ signed chain checkpoint\\(s\\); ledger log: ${events.length} leaves`))
    })

    /** The report on the baseline with `corrupt` applied, which is then rolled back. */
    async function verifiedAfter(corrupt: (q: Q) => Promise<unknown>, publicKey?: string[]) {
      open ??= await openStore(baseline) // after the first case, which runs the command on the closed store
      const { q } = open
      await q('begin')
      try {
        await corrupt(q)
        return await verifyThrough(q, baseline.dataDir, publicKey)
      } finally {
        await q('rollback')
      }
    }

    async function tampered(sqlOrFn: string | ((q: Q) => Promise<void>)) {
      const report = await verifiedAfter((q) => (typeof sqlOrFn === 'string' ? q(sqlOrFn) : sqlOrFn(q)))
      assert.equal(report.ok, false, JSON.stringify(report))
      return report.problems[0]!
    }

    it('names an edited event', async () => {
      const p = await tampered(`update events set metadata = '{"request":{"name":"mallory"}}' where seq = ${K}`)
      assert.deepEqual([p.kind, p.seq, p.guid], ['edited', K, events[K - 1]!.guid])
      assert.match(p.message, /was edited: its content no longer matches its hash/)
    })

    it('names an event edited with its own hash recomputed', async () => {
      const p = await tampered(async (q) => {
        const e = { ...events[K - 1]!, actor_name: 'someone-else' }
        await q('update events set actor_name = $1, hash = $2 where seq = $3', [e.actor_name, eventHash(e.prev_hash!, e), K])
      })
      assert.deepEqual([p.kind, p.seq, p.guid], ['edited', K, events[K - 1]!.guid])
      assert.match(p.message, /edited and re-hashed/)
    })

    it('names a deleted event', async () => {
      const p = await tampered(`delete from events where seq = ${K}`)
      assert.deepEqual([p.kind, p.seq], ['deleted', K])
      assert.match(p.message, new RegExp(`event seq ${K} was deleted`))
    })

    it('names a deletion hidden by renumbering the later events', async () => {
      const p = await tampered(async (q) => {
        await q(`delete from events where seq = ${K}`)
        await q(`update events set seq = seq + 1000000 where seq > ${K}`)
        await q(`update events set seq = seq - 1000001 where seq > 1000000`)
        await q(`update ledger_head set seq = seq - 1`)
      })
      assert.deepEqual([p.kind, p.seq], ['deleted', K])
    })

    it('names an inserted event, even with a valid hash of its own', async () => {
      const p = await tampered(async (q) => {
        await q(`update events set seq = seq + 1000001 where seq >= ${K}`)
        await q(`update events set seq = seq - 1000000 where seq > 1000000`)
        const before = events[K - 2]!
        const forged = { ...events[K - 1]!, seq: K, guid: crypto.randomUUID(), type: 'audit.organization.update', metadata: { request: { forged: true } } }
        const hash = eventHash(before.hash!, forged)
        await q(
          `insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid, prev_hash, hash)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [K, forged.guid, forged.created_at, forged.type, forged.actor, forged.actor_type, forged.actor_name, forged.actor_username, forged.actee, forged.actee_type, forged.actee_name, JSON.stringify(forged.metadata), forged.space_guid, forged.organization_guid, before.hash, hash],
        )
        await q(`update ledger_head set seq = seq + 1`)
      })
      assert.equal(p.kind, 'inserted')
      assert.equal(p.seq, K)
    })

    it('names reordered events', async () => {
      const p = await tampered(async (q) => {
        await q(`update events set seq = -1 where seq = ${K}`)
        await q(`update events set seq = ${K} where seq = ${K + 1}`)
        await q(`update events set seq = ${K + 1} where seq = -1`)
      })
      assert.deepEqual([p.kind, p.seq, p.guid], ['reordered', K, events[K]!.guid])
    })

    it('catches a consistently re-hashed chain through the signed checkpoints', async () => {
      const p = await tampered(async (q) => {
        let prev = events[K - 2]!.hash
        for (const e of chained.slice(K - 1)) {
          const changed = e.seq === K ? { ...e, metadata: { request: { name: 'rewritten' } } } : e
          const hash = eventHash(prev!, changed)
          await q('update events set metadata = $1, prev_hash = $2, hash = $3 where seq = $4', [JSON.stringify(changed.metadata), prev, hash, e.seq])
          prev = hash
        }
        await q('update ledger_head set hash = $1', [prev])
      })
      assert.equal(p.kind, 'checkpoint')
      assert.ok(p.seq! <= K, JSON.stringify(p))
      assert.match(p.message, /does not match the checkpoint signed .*: an event in seq \d+\.\.\d+ was changed and the chain re-hashed after it/)
    })

    it('catches events cut off the end of the chain, with the ledger head moved back', async () => {
      const keep = CHAINED - 3
      const p = await tampered(async (q) => {
        await q(`delete from events where seq > ${keep} and seq <= ${CHAINED}`)
        await q('update ledger_head set seq = $1, hash = $2', [keep, chained[keep - 1]!.hash])
      })
      assert.deepEqual([p.kind, p.seq], ['deleted', keep + 1])
      assert.match(p.message, new RegExp(`event seq ${keep + 1}\\.\\.${CHAINED} was deleted: a checkpoint signed .* covers seq ${CHAINED}`))
    })

    it('catches a cut tail even when the checkpoints in the table are removed too, from the server copy', async () => {
      const keep = CHAINED - 2
      const p = await tampered(async (q) => {
        await q(`delete from events where seq > ${keep} and seq <= ${CHAINED}`)
        await q(`delete from ledger_checkpoints where seq > ${keep}`)
        await q('update ledger_head set seq = $1, hash = $2', [keep, chained[keep - 1]!.hash])
      })
      assert.equal(p.seq, keep + 1)
      assert.ok(['deleted', 'checkpoint'].includes(p.kind), JSON.stringify(p))
    })

    it('names an unchained event edited after it was logged', async () => {
      const e = unchained[3]!
      const p = await tampered(`update events set actor_name = 'mallory' where seq = ${e.seq}`)
      assert.deepEqual([p.kind, p.seq, p.guid], ['tile', e.seq, e.guid])
      assert.match(p.message, /was changed after it was logged: it no longer hashes to its leaf/)
    })

    it('names a deleted unchained event, whose leaf the log still holds', async () => {
      const e = unchained[2]!
      const p = await tampered(`delete from events where seq = ${e.seq}`)
      assert.deepEqual([p.kind, p.seq], ['tile', e.seq])
      assert.match(p.message, new RegExp(`event seq ${e.seq} \\(leaf \\d+\\) was deleted: the log still holds its leaf`))
    })

    it('names an event slipped in behind the integrator, and one made to look chained after the head', async () => {
      const model = unchained[1]!
      const p = await tampered(async (q) => {
        // An older transaction id than everything integrated: no integrator pass will ever take it.
        await q(
          `insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid, xid)
           select $1, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, '{"forged":true}', space_guid, organization_guid, xid from events where seq = $2`,
          [crypto.randomUUID(), model.seq],
        )
      })
      assert.equal(p.kind, 'inserted')
      assert.match(p.message, /is not in the log and sorts behind what the integrator has taken/)
      const q = await tampered(async (q) => {
        const last = chained.at(-1)!
        const forged = { ...last, seq: 100_000, guid: crypto.randomUUID(), metadata: { forged: true } }
        await q(
          `insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid, prev_hash, hash)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [forged.seq, forged.guid, forged.created_at, forged.type, forged.actor, forged.actor_type, forged.actor_name, forged.actor_username, forged.actee, forged.actee_type, forged.actee_name, JSON.stringify(forged.metadata), forged.space_guid, forged.organization_guid, last.hash, eventHash(last.hash!, forged)],
        )
      })
      assert.equal(q.kind, 'inserted')
      assert.match(q.message, /carries chain hashes but was inserted after the ledger head/)
    })

    it('rejects a forged checkpoint and one signed by an untrusted key', async () => {
      const p = await tampered(`update ledger_checkpoints set hash = repeat('a', 64) where seq = (select max(seq) from ledger_checkpoints)`)
      assert.equal(p.kind, 'checkpoint')
      assert.match(p.message, /invalid signature|differs from the server's copy/)
      // Only an offline copy of some other key is trusted: every checkpoint is then unverifiable.
      const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })
      const keyFile = path.join(baseline.dataDir, '..', `other-${crypto.randomUUID()}.pub.pem`)
      fs.writeFileSync(keyFile, other)
      const report = await verifiedAfter(async () => {}, [keyFile])
      assert.equal(report.ok, false)
      assert.match(report.problems[0]!.message, /not trusted/)
      const untouched = await verifiedAfter(async () => {})
      assert.equal(untouched.ok, true, JSON.stringify(untouched.problems))
    })

    it('refuses to open an embedded store that is in use, and reports a missing store', async () => {
      if (store === 'embedded') {
        const server = await startServer(store)
        try {
          const r = await runVerifyText({ dataDir: server.dataDir })
          assert.equal(r.code, 2)
          assert.match(r.out, /is open: stop the server first/)
        } finally {
          await server.stop()
        }
      }
      const r = await runVerifyText({ dataDir: path.join(baseline.dataDir, 'nowhere') })
      assert.equal(r.code, 2)
    })
  })

}


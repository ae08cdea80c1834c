// The ledger log over HTTP, read as a tlog client would: the vkey, a checkpoint that verifies
// under it, tiles and entry bundles (entries only for global readers), inclusion proofs of
// audit events with their visibility, consistency between checkpoints.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { openCheckpoint, type OpenedCheckpoint } from '../src/ledger/checkpoint.ts'
import { leafHash, rootOf, verifyConsistency, verifyInclusion } from '../src/ledger/merkle.ts'
import { parseVkey, type Verifier } from '../src/ledger/note.ts'
import { decodeBundle, tilePath } from '../src/ledger/tiles.ts'
import { Api, createOrgAndSpace, createUser, grant } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const b64 = (s: string) => Buffer.from(s, 'base64')

for (const store of stores()) {
  describe(`ledger log API [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let auditor: Api
    let outsider: Api
    let key: Verifier
    let origin: string

    const raw = async (api: Api, path: string) => {
      const res = await fetch(`${api.url}${path}`, { headers: { authorization: `bearer ${api.token}` } })
      return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
    }
    /** The newest checkpoint once it covers at least `size` leaves. */
    const checkpoint = async (size: number): Promise<OpenedCheckpoint & { text: string }> => {
      for (let i = 0; i < 200; i++) {
        const r = await raw(admin, '/ledger/v1/log/checkpoint')
        if (r.status === 200) {
          const cp = openCheckpoint(r.bytes, origin, [key])
          if (cp.size >= size) return { ...cp, text: r.bytes.toString() }
        }
        await new Promise((res) => setTimeout(res, 50))
      }
      throw new Error(`no checkpoint of size ${size}`)
    }
    const eventCount = async () => (await admin.get('/v3/audit_events?per_page=1')).body.pagination.total_results as number

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS: '100', CF_LEDGER_LOG_ORIGIN: 'ledger.test/log' } })
      admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'acme', 'prod')
      const a = await createUser(admin, 'audrey', 'audrey-pw')
      const o = await createUser(admin, 'oscar')
      await grant(admin, 'organization_user', a.guid, { org: orgGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      auditor = a.api
      outsider = o.api
      for (let i = 0; i < 5; i++) await admin.post('/v3/spaces', { name: `s${i}`, relationships: { organization: { data: { guid: orgGuid } } } })
    })
    after(() => server?.stop())

    it('serves the vkey, printed at start, and signs checkpoints under it', async () => {
      const r = await new Api(server.url).get('/ledger/v1/log/key')
      assert.equal(r.status, 200)
      assert.match(r.headers.get('content-type')!, /^text\/plain/)
      key = parseVkey(r.body)
      origin = key.name
      assert.equal(origin, 'ledger.test/log')
      assert.ok(server.output().includes(`cf-ledger ledger log key: ${r.body.trim()}`), server.output().slice(0, 600))
      const cp = await checkpoint(await eventCount())
      assert.ok(cp.size >= 7, `size ${cp.size}`)
      const keys = (await admin.get('/ledger/v1/log/keys')).body
      assert.deepEqual(keys.history.map((k: { vkey: string }) => k.vkey), [r.body.trim()])
      assert.equal((await new Api(server.url).get('/ledger/v1/log/checkpoint')).status, 401)
    })

    it('serves tiles and entry bundles as tlog-tiles; bundles only for global readers', async () => {
      const cp = await checkpoint(1)
      const tile = await raw(auditor, `/ledger/v1/log/${tilePath(0, 0, cp.size)}`)
      assert.equal(tile.status, 200)
      assert.equal(tile.bytes.length, cp.size * 32)
      assert.match(tile.headers.get('cache-control')!, /immutable/)
      const hashes = Array.from({ length: cp.size }, (_, i) => tile.bytes.subarray(i * 32, (i + 1) * 32))
      assert.deepEqual(rootOf(hashes), cp.root, 'the level-0 tile hashes to the checkpoint root')
      const bundle = await raw(admin, `/ledger/v1/log/${tilePath('entries', 0, cp.size)}`)
      assert.equal(bundle.status, 200)
      const entries = decodeBundle(bundle.bytes)
      assert.deepEqual(entries.map(leafHash), hashes, 'each entry hashes to its leaf')
      assert.equal(JSON.parse(entries[0]!.toString()).kind, 'cf-ledger/event@v1')
      assert.equal((await raw(auditor, `/ledger/v1/log/${tilePath('entries', 0, cp.size)}`)).status, 403)
      for (const bad of ['tile/0/000.p/0', 'tile/0/1', `tile/0/000.p/${cp.size + 1}`, 'tile/0/000', 'tile/1/000.p/1', 'tile/entries/001']) {
        assert.equal((await raw(admin, `/ledger/v1/log/${bad}`)).status, 404, bad)
      }
    })

    it("proves an event's inclusion to whoever may read the event", async () => {
      const events = (await auditor.get('/v3/audit_events?types=audit.space.create')).body.resources
      assert.ok(events.length >= 1)
      const cp = await checkpoint(await eventCount())
      for (const e of events) {
        const r = await auditor.get(`/ledger/v1/events/${e.guid}/inclusion`)
        assert.equal(r.status, 200, JSON.stringify(r.body))
        const opened = openCheckpoint(r.body.checkpoint, origin, [key])
        const entry = b64(r.body.entry)
        assert.equal(JSON.parse(entry.toString()).guid, e.guid)
        verifyInclusion(r.body.leaf_index, opened.size, leafHash(entry), r.body.proof.map(b64), opened.root)
        assert.ok(opened.size >= cp.size)
      }
      assert.equal((await outsider.get(`/ledger/v1/events/${events[0].guid}/inclusion`)).status, 404)
      assert.equal((await auditor.get(`/ledger/v1/events/${events[0].guid}/inclusion?tree_size=x`)).status, 400)
    })

    it('proves consistency between two checkpoints', async () => {
      const first = await checkpoint(1)
      await admin.post('/v3/organizations', { name: 'later' })
      const second = await checkpoint(first.size + 1)
      const r = await auditor.get(`/ledger/v1/log/consistency?first=${first.size}&second=${second.size}`)
      assert.equal(r.status, 200, JSON.stringify(r.body))
      verifyConsistency(first.size, second.size, r.body.proof.map(b64), first.root, second.root)
      assert.equal((await auditor.get(`/ledger/v1/log/consistency?first=${second.size + 1}&second=${second.size}`)).status, 400)
      assert.equal((await auditor.get('/ledger/v1/log/consistency?first=1&second=999999')).status, 400)
    })
  })
}

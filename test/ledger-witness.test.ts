// Witnesses: `cf-ledger witness` answers add-checkpoint as c2sp.org/tlog-witness says (404, 403,
// 400, 409 with the size, 422), checks and persists atomically, cosigns what the server pushes,
// and refuses a log whose history was rewritten in the database and re-signed with the log key.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { checkpointText, openCheckpoint } from '../src/ledger/checkpoint.ts'
import { cosignatureVerifier } from '../src/ledger/cosignature.ts'
import { consistencyProof, EMPTY_ROOT, leafHash, memoryReader, treeRoot } from '../src/ledger/merkle.ts'
import { parseVkey, signerFromSeed, signNote, skeyOf, vkeyOf } from '../src/ledger/note.ts'
import { addCheckpointBody } from '../src/ledger/witness-client.ts'
import { Api } from './support/client.ts'
import { withStore } from './support/db.ts'
import { CLI, startServer, stores, type TestServer } from './support/server.ts'

const ORIGIN = 'ledger.test/witnessed'

async function startWitnessCli(dir: string, logVkey: string): Promise<{ url: string; vkey: string; child: ChildProcess }> {
  const child = spawn(CLI, ['witness', '--dir', dir, '--name', 'witness.test/w1', '--log', logVkey, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`witness did not start: ${out}`)), 60_000)
    const check = (d: Buffer) => {
      out += d
      const url = /listening on (\S+)/.exec(out)?.[1]
      const vkey = /witness key: (\S+)/.exec(out)?.[1]
      if (url && vkey) {
        clearTimeout(timer)
        resolve({ url, vkey, child })
      }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
  })
}

const post = async (url: string, body: string) => {
  const r = await fetch(`${url}/add-checkpoint`, { method: 'POST', body })
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() }
}

describe('tlog-witness add-checkpoint', () => {
  const seed = crypto.randomBytes(32)
  const log = signerFromSeed(ORIGIN, seed)
  const leaves = Array.from({ length: 12 }, (_, i) => leafHash(Buffer.from(`e${i}`)))
  const read = memoryReader(leaves)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-witness-'))
  let w: Awaited<ReturnType<typeof startWitnessCli>>
  const cp = async (n: number, signer = log, o = ORIGIN) => signNote(checkpointText({ origin: o, size: n, root: n ? await treeRoot(n, read) : EMPTY_ROOT }), [signer])

  before(async () => {
    w = await startWitnessCli(dir, vkeyOf(log.verifier))
  })
  after(() => {
    w.child.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('answers each refusal with the status the spec gives', async () => {
    assert.equal((await post(w.url, addCheckpointBody(0, [], await cp(5, signerFromSeed('other.test/log', seed), 'other.test/log')))).status, 404)
    assert.equal((await post(w.url, addCheckpointBody(0, [], await cp(5, signerFromSeed(ORIGIN, crypto.randomBytes(32)))))).status, 403)
    assert.equal((await post(w.url, addCheckpointBody(0, [], (await cp(5)).replace('\n5\n', '\n6\n')))).status, 403)
    assert.equal((await post(w.url, addCheckpointBody(6, [], await cp(5)))).status, 400)
    assert.equal((await post(w.url, 'old 0\nnot a hash\n\n')).status, 400)
    assert.equal((await post(w.url, addCheckpointBody(0, [leaves[0]!], await cp(5)))).status, 422, 'old 0 needs an empty proof')
    assert.equal((await post(w.url, addCheckpointBody(0, [], signNote(checkpointText({ origin: ORIGIN, size: 0, root: leaves[0]! }), [log])))).status, 422)
  })

  it('cosigns consistent growth, answers 409 with its size, 422 a fork, and checks-and-persists atomically', async () => {
    const first = await post(w.url, addCheckpointBody(0, [], await cp(5)))
    assert.equal(first.status, 200, first.text)
    const wv = parseVkey(w.vkey, cosignatureVerifier)
    assert.equal(openCheckpoint((await cp(5)) + first.text, ORIGIN, [log.verifier], [wv]).cosigners.length, 1)
    const stale = await post(w.url, addCheckpointBody(0, [], await cp(7)))
    assert.deepEqual([stale.status, stale.type, stale.text], [409, 'text/x.tlog.size', '5\n'])
    // A fork: another history of 8 leaves sharing nothing with the cosigned 5 after leaf 2.
    const forked = [...leaves.slice(0, 3), ...leaves.slice(3).map((h) => leafHash(h))]
    const fr = memoryReader(forked)
    const forkCp = signNote(checkpointText({ origin: ORIGIN, size: 8, root: await treeRoot(8, fr) }), [log])
    assert.equal((await post(w.url, addCheckpointBody(5, await consistencyProof(5, 8, fr), forkCp))).status, 422)
    assert.equal((await post(w.url, addCheckpointBody(5, [], (await cp(5)).replace(/\n[^\n]+=\n\n/, `\n${leaves[0]!.toString('base64')}\n\n`)))).status, 403)
    // Two requests from the same old size at once: exactly one is cosigned.
    const [a, b] = await Promise.all([
      post(w.url, addCheckpointBody(5, await consistencyProof(5, 9, read), await cp(9))),
      post(w.url, addCheckpointBody(5, await consistencyProof(5, 11, read), await cp(11))),
    ])
    assert.deepEqual([a.status, b.status].sort(), [200, 409])
  })
})

for (const store of stores()) {
  describe(`witnessed ledger [${store}]`, () => {
    const seed = crypto.randomBytes(32)
    const log = signerFromSeed(ORIGIN, seed)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-witness-'))
    let w: Awaited<ReturnType<typeof startWitnessCli>>
    let server: TestServer
    let wv: ReturnType<typeof cosignatureVerifier>

    const latest = async (admin: Api) => {
      const r = await fetch(`${server.url}/ledger/v1/log/checkpoint`, { headers: { authorization: `bearer ${admin.token}` } })
      return r.status === 200 ? openCheckpoint(await r.text(), ORIGIN, [log.verifier], [wv]) : undefined
    }

    before(async () => {
      w = await startWitnessCli(dir, vkeyOf(log.verifier))
      wv = parseVkey(w.vkey, cosignatureVerifier) as ReturnType<typeof cosignatureVerifier>
      server = await startServer(store, {
        env: {
          CF_LEDGER_LOG_ORIGIN: ORIGIN,
          CF_LEDGER_LOG_KEY: skeyOf(ORIGIN, seed),
          CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS: '100',
          CF_LEDGER_WITNESSES: `${w.vkey}=${w.url}`,
        },
      })
    })
    after(async () => {
      await server?.stop()
      w.child.kill()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('pushes checkpoints to the witness and serves its cosignature; refuses nothing consistent', async () => {
      const admin = await new Api(server.url).admin()
      for (let i = 0; i < 4; i++) await admin.post('/v3/organizations', { name: `org-${i}` })
      let cp
      for (let i = 0; i < 200 && !(cp = await latest(admin))?.cosigners.length; i++) await new Promise((r) => setTimeout(r, 50))
      assert.equal(cp?.cosigners.length, 1, 'the checkpoint carries the witness cosignature')
      await admin.post('/v3/organizations', { name: 'org-more' })
      const before = cp!.size
      for (let i = 0; i < 200 && !((cp = await latest(admin))!.size > before && cp!.cosigners.length); i++) await new Promise((r) => setTimeout(r, 50))
      assert.ok(cp!.size > before && cp!.cosigners.length === 1, 'grown and cosigned again')
    })

    it('refuses a history rewritten in the database and re-signed with the log key', async () => {
      const admin = await new Api(server.url).admin()
      const witnessed = (await latest(admin))!
      await server.stop()
      // The insider: edit the first event, drop the log with its triggers off, let the server rebuild and re-sign it.
      await withStore(server, async (q) => {
        await q(`update events set actee_name = 'rewritten' where seq = 1`)
        await q('set session_replication_role = replica')
        for (const t of ['ledger_tiles', 'ledger_leaves', 'ledger_log_checkpoints']) await q(`delete from ${t}`)
        await q(`update ledger_log set size = 0, legacy_seq = 0, cursor_xid = '0', cursor_seq = 0, task_cursor_xid = '0', task_cursor_id = 0`)
      })
      server = await server.restart()
      let cp
      for (let i = 0; i < 200 && !(((cp = await latest(admin))?.size ?? 0) >= witnessed.size); i++) await new Promise((r) => setTimeout(r, 50))
      assert.ok(cp && cp.size >= witnessed.size, 'the server re-signed the rewritten log')
      assert.notDeepEqual(cp.root, witnessed.root)
      await new Promise((r) => setTimeout(r, 1000))
      assert.equal((await latest(admin))!.cosigners.length, 0, 'the witness did not cosign the rewritten log')
      assert.match(server.output(), /the witness refused the checkpoint/)
    })
  })
}

// One proof per task run: when a task ends its run record becomes a leaf committing to the
// outcome, the output's SHA-256 and its events' leaves; GET /ledger/v1/tasks/:guid/proof returns
// a .tlog-proof that `cf-ledger verify-proof` checks offline, and that fails after any change.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { verifyProofFile } from '../src/ledger/verify-proof-cli.ts'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { CLI, startServer, stores, type TestServer } from './support/server.ts'

const run = promisify(execFile)

for (const store of stores()) {
  describe(`task run proofs [${store}]`, () => {
    let server: TestServer
    let dev: Api
    let outsider: Api
    let vkey: string
    let appGuid: string
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-proof-'))

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS: '100' } })
      const admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'acme', 'prod')
      const d = await createUser(admin, 'dana', 'dana-pw')
      await grant(admin, 'organization_user', d.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      dev = d.api
      outsider = (await createUser(admin, 'oscar')).api
      vkey = (await new Api(server.url).get('/ledger/v1/log/key')).body.trim()
      appGuid = await pushApp(dev, spaceGuid, 'billing')
    })
    after(async () => {
      await server?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    async function proofOf(guid: string): Promise<string> {
      for (let i = 0; i < 200; i++) {
        const r = await dev.get(`/ledger/v1/tasks/${guid}/proof`)
        if (r.status === 200) return r.body as string
        assert.equal(r.status, 422, JSON.stringify(r.body))
        await new Promise((res) => setTimeout(res, 50))
      }
      throw new Error('no proof')
    }

    it('proves a finished task offline, and names what it proves', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'echo proven; exit 3', name: 'audit-me' }), 202)
      const task = await waitForTask(dev, t.body.guid)
      const proof = await proofOf(task.guid)
      const file = path.join(dir, 'task.tlog-proof')
      fs.writeFileSync(file, proof)
      assert.match(proof, /^c2sp\.org\/tlog-proof@v1\nextra \S+\nindex \d+\n/)

      const { stdout } = await run(CLI, ['verify-proof', file, '--key', vkey, '--task', task.guid])
      assert.match(stdout, /^cf-ledger verify-proof: OK: task \S+ is leaf of a log of \d+ signed by the trusted key/)
      assert.match(stdout, /outcome: +FAILED \(exit 3\): APP\/TASK\/audit-me: Exited with status 3/)
      assert.match(stdout, /actor: +dana/)
      assert.match(stdout, /events: +audit\.app\.task\.create, audit\.app\.task\.complete/)

      const { entry } = verifyProofFile(Buffer.from(proof), { key: [vkey] })
      const trail = expectOk(await dev.get(`/ledger/v1/tasks/${task.guid}/trail`)).body
      assert.equal(entry.output!.sha256, trail.output.summary.sha256, 'the leaf commits to the output hash')
      assert.equal(typeof trail.ledger.task_run_leaf_index, 'number')
      assert.ok(trail.events.every((e: { leaf_index: unknown }) => typeof e.leaf_index === 'number'))
      assert.match(trail.links.proof.href, /\/ledger\/v1\/tasks\/.+\/proof$/)

      // Any single changed byte, or the wrong key or task, and it fails.
      const bytes = Buffer.from(proof)
      for (let i = 0; i < bytes.length; i += 7) {
        const b = Buffer.from(bytes)
        b[i] = b[i]! ^ 0x20
        assert.throws(() => verifyProofFile(b, { key: [vkey] }), Error, `byte ${i}`)
      }
      const other = await run(CLI, ['verify-proof', file, '--key', vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')]).catch((e) => e)
      assert.equal(other.code, 2, 'a mangled key is bad input')
      const wrongTask = await run(CLI, ['verify-proof', file, '--key', vkey, '--task', appGuid]).catch((e) => e)
      assert.equal(wrongTask.code, 1)
      fs.writeFileSync(file, proof.replace('index ', 'index 1'))
      assert.equal((await run(CLI, ['verify-proof', file, '--key', vkey]).catch((e) => e)).code, 1)
    })

    it('cf-ledger trail --verify checks the proof against the trail', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'echo ok', name: 'cli' }), 202)
      await waitForTask(dev, t.body.guid)
      await proofOf(t.body.guid)
      const env = { ...process.env, CF_LEDGER_HOME: dir }
      await run(CLI, ['login', '--api', server.url, '-u', 'dana', '-p', 'dana-pw'], { env })
      const ok = await run(CLI, ['trail', t.body.guid, '--verify', '--key', vkey], { env })
      assert.match(ok.stdout, /^proof: +verified \(leaf \d+ of \d+\)$/m)
      const other = (await new Api(server.url).get('/ledger/v1/log/key')).body.trim().replace(/\+[0-9a-f]{8}\+.*/, '')
      assert.equal(other, 'cf-ledger/local')
      const bad = await run(CLI, ['trail', t.body.guid, '--verify', '--key', 'cf-ledger/local+00000000+AeH2Z5wsgHvWvwbD0yHRbtSxE5k8Ik/Mq+QAKjqhXRp3'], { env }).catch((e) => e)
      assert.notEqual(bad.code ?? 0, 0)
    })

    it('gives the proof only to whoever may see the task', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'true', name: 'hidden' }), 202)
      await waitForTask(dev, t.body.guid)
      assert.equal((await outsider.get(`/ledger/v1/tasks/${t.body.guid}/proof`)).status, 404)
    })
  })
}

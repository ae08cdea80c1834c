import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { CLI, startServer, stores, type TestServer } from './support/server.ts'

const run = promisify(execFile)

for (const store of stores()) {
  describe(`task trail [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let appGuid: string
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-cli-'))

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_TASK_CANCEL_GRACE_MS: '200' } })
      admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'acme', 'prod')
      const d = await createUser(admin, 'dana', 'dana-pw')
      const a = await createUser(admin, 'audrey', 'audrey-pw')
      const o = await createUser(admin, 'oscar')
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      ;({ api: dev } = d)
      ;({ api: auditor } = a)
      ;({ api: outsider } = o)
      appGuid = await pushApp(dev, spaceGuid, 'billing')
    })
    after(async () => {
      await server.stop()
      fs.rmSync(home, { recursive: true, force: true })
    })

    async function runTask(body: Record<string, unknown>) {
      const t = expectOk(await dev.request('POST', `/v3/apps/${appGuid}/tasks`, body, { 'user-agent': 'trail-test/1.0' }), 202)
      return waitForTask(dev, t.body.guid)
    }

    it('answers who, what, where, what it printed, how and when for a succeeded task', async () => {
      const task = await runTask({ command: 'echo first line; echo to-stderr >&2; echo last line', name: 'report' })
      const trail = expectOk(await dev.get(`/ledger/v1/tasks/${task.guid}/trail`)).body
      assert.equal(trail.task.state, 'SUCCEEDED')
      assert.equal(trail.task.exit_status, 0)
      assert.equal(trail.actor.username, 'dana')
      assert.equal(trail.actor.type, 'user')
      assert.equal(trail.actor.origin, 'uaa')
      assert.equal(trail.actor.client_id, 'cf')
      assert.equal(trail.actor.ip, '127.0.0.1')
      assert.equal(trail.actor.user_agent, 'trail-test/1.0')
      assert.equal(trail.command, 'echo first line; echo to-stderr >&2; echo last line')
      assert.match(trail.command_fingerprint, /^hmac-sha256:[0-9a-f]{64}$/)
      assert.deepEqual(trail.target.app, { guid: appGuid, name: 'billing' })
      assert.equal(trail.target.space.name, 'prod')
      assert.equal(trail.target.organization.name, 'acme')
      assert.ok(Date.parse(trail.timing.started_at) <= Date.parse(trail.timing.finished_at))
      assert.equal(typeof trail.timing.duration_ms, 'number')
      assert.deepEqual(
        trail.events.map((e: { type: string }) => e.type),
        ['audit.app.task.create', 'audit.app.task.complete'],
      )
      assert.equal(trail.events[0].data.request.command, '[PRIVATE DATA HIDDEN]')
      const texts = trail.output.tail.map((l: { text: string }) => l.text)
      assert.ok(texts.includes('first line') && texts.includes('to-stderr') && texts.includes('last line'), JSON.stringify(texts))
      assert.equal(trail.output.summary.out_lines, 2)
      assert.equal(trail.output.summary.err_lines, 1)
      assert.equal(trail.integrity.verified, true)
      assert.equal(trail.integrity.events_checked, 2)
    })

    it('hides the command from an auditor but gives a fingerprint that matches', async () => {
      const task = await runTask({ command: 'echo rotate-keys --all', name: 'rotate' })
      const trail = expectOk(await auditor.get(`/ledger/v1/tasks/${task.guid}/trail`)).body
      assert.equal(trail.command, '[PRIVATE DATA HIDDEN]')
      const byCommand = expectOk(await auditor.get(`/ledger/v1/tasks?command=${encodeURIComponent('echo rotate-keys --all')}`)).body
      assert.deepEqual(
        byCommand.resources.map((r: { task: { guid: string } }) => r.task.guid),
        [task.guid],
      )
      assert.equal(byCommand.resources[0].command, '[PRIVATE DATA HIDDEN]')
      const other = expectOk(await auditor.get(`/ledger/v1/tasks?command=${encodeURIComponent('echo rotate-keys')}`)).body
      assert.equal(other.resources.length, 0)
      const byFingerprint = expectOk(await auditor.get(`/ledger/v1/tasks?command_fingerprints=${trail.command_fingerprint}`)).body
      assert.equal(byFingerprint.resources[0].task.guid, task.guid)
    })

    it('records failure, cancellation and out-of-memory endings', async () => {
      const failed = await runTask({ command: 'echo boom >&2; exit 7', name: 'breaks' })
      const f = expectOk(await dev.get(`/ledger/v1/tasks/${failed.guid}/trail`)).body
      assert.equal(f.task.failure_reason, 'APP/TASK/breaks: Exited with status 7')
      assert.equal(f.task.exit_status, 7)

      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 300', name: 'stuck' }), 202)
      for (let i = 0; i < 200 && expectOk(await dev.get(`/v3/tasks/${t.body.guid}`)).body.state !== 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 50))
      }
      expectOk(await dev.post(`/v3/tasks/${t.body.guid}/actions/cancel`), 202)
      await waitForTask(dev, t.body.guid)
      const c = expectOk(await dev.get(`/ledger/v1/tasks/${t.body.guid}/trail`)).body
      assert.equal(c.task.failure_reason, 'task was cancelled')
      assert.deepEqual(
        c.events.map((e: { type: string }) => e.type),
        ['audit.app.task.create', 'audit.app.task.cancel', 'audit.app.task.complete'],
      )

      const oom = await runTask({ command: 'head -c 400000000 /dev/zero | tail > /dev/null', name: 'hog', memory_in_mb: 64 })
      const o = expectOk(await dev.get(`/ledger/v1/tasks/${oom.guid}/trail`)).body
      assert.equal(o.task.state, 'FAILED')
      assert.match(o.task.failure_reason, /^APP\/TASK\/hog: Exited with status \d+ \(out of memory\)$/)
    })

    it('searches trails by actor, app, state and time, paginated, and 404s invisible tasks', async () => {
      const all = expectOk(await dev.get('/ledger/v1/tasks?per_page=2&order_by=-created_at')).body
      assert.equal(all.resources.length, 2)
      assert.ok(all.pagination.total_results >= 5)
      assert.ok(all.pagination.next.href.includes('page=2'))
      const byActor = expectOk(await auditor.get('/ledger/v1/tasks?actor_usernames=dana&states=FAILED')).body
      assert.ok(byActor.resources.length >= 3)
      assert.ok(byActor.resources.every((r: { task: { state: string } }) => r.task.state === 'FAILED'))
      const future = expectOk(await dev.get(`/ledger/v1/tasks?created_ats[gt]=2999-01-01T00:00:00Z`)).body
      assert.equal(future.resources.length, 0)
      const none = expectOk(await outsider.get('/ledger/v1/tasks')).body
      assert.equal(none.pagination.total_results, 0)
      const some = all.resources[0].task.guid
      assert.equal((await outsider.get(`/ledger/v1/tasks/${some}/trail`)).status, 404)
      assert.equal((await dev.get(`/ledger/v1/tasks/${crypto.randomUUID()}/trail`)).status, 404)
      assert.equal((await dev.get('/ledger/v1/tasks?created_ats[gt]=yesterday')).status, 400)
    })

    it('prints the trail with the cf-ledger CLI, by guid or by app and sequence id', async () => {
      const task = await runTask({ command: 'echo from-cli', name: 'cli-task' })
      const env = { ...process.env, CF_LEDGER_HOME: home }
      await run(CLI, ['login', '--api', server.url, '-u', 'audrey', '-p', 'audrey-pw'], { env })
      const human = await run(CLI, ['trail', task.guid], { env })
      assert.match(human.stdout, /^task: +cli-task \(#\d+, /m)
      assert.match(human.stdout, /^actor: +dana \(user, origin uaa, client cf\)/m)
      assert.match(human.stdout, /^command: +\[PRIVATE DATA HIDDEN\]/m)
      assert.match(human.stdout, /^org \/ space \/ app: +acme \/ prod \/ billing/m)
      assert.match(human.stdout, /^integrity: +verified \(2 events\)/m)
      assert.match(human.stdout, / OUT from-cli$/m)
      const json = await run(CLI, ['trail', '--app', 'billing', '--sequence', String(task.sequence_id), '--json'], { env })
      assert.equal(JSON.parse(json.stdout).task.guid, task.guid)
      const list = await run(CLI, ['tasks', '--app', 'billing', '--state', 'succeeded'], { env })
      assert.match(list.stdout, /^guid +app +id +name +state +actor +created/)
      assert.match(list.stdout, new RegExp(task.guid))
      await assert.rejects(run(CLI, ['trail', crypto.randomUUID()], { env }), /Task not found/)
    })
  })
}

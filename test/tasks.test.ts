import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

for (const store of stores()) {
  describe(`tasks [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let spaceGuid: string
    let appGuid: string

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_TASK_CANCEL_GRACE_MS: '200' } })
      admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid: s } = await createOrgAndSpace(admin, 'org', 'space')
      spaceGuid = s
      const d = await createUser(admin, 'dev')
      const a = await createUser(admin, 'aud')
      const o = await createUser(admin, 'out')
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      dev = d.api
      auditor = a.api
      outsider = o.api
      appGuid = await pushApp(dev, spaceGuid, 'worker', {
        'run.sh': { content: '#!/bin/sh\necho "ran $1"\nexit "${2:-0}"\n', mode: 0o755 },
        'data.txt': 'payload\n',
      })
    })
    after(() => server.stop())

    it('runs a task to SUCCEEDED in a copy of the droplet, with CF environment', async () => {
      const created = await dev.post(`/v3/apps/${appGuid}/tasks`, {
        command: 'test -x ./run.sh && grep -q payload data.txt && test -n "$VCAP_APPLICATION" && test "$CF_INSTANCE_INDEX" = 0 && test "$MEMORY_LIMIT" = 256m && ./run.sh x 0',
        name: 'check-env',
        memory_in_mb: 256,
      })
      assert.equal(created.status, 202)
      assert.equal(created.body.name, 'check-env')
      assert.equal(created.body.sequence_id, 1)
      assert.match(created.body.command, /run\.sh/)
      assert.ok(['PENDING', 'RUNNING'].includes(created.body.state))
      assert.equal(created.body.memory_in_mb, 256)
      assert.equal(created.body.links.cancel.href, `${server.url}/v3/tasks/${created.body.guid}/actions/cancel`)
      const done = await waitForTask(dev, created.body.guid)
      assert.equal(done.state, 'SUCCEEDED', JSON.stringify(done))
      assert.equal(done.result.failure_reason, null)
    })

    it("passes the app's environment variables to tasks", async () => {
      expectOk(await dev.patch(`/v3/apps/${appGuid}/environment_variables`, { var: { GREETING: 'hello world' } }))
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'test "$GREETING" = "hello world"' }), 202)
      assert.match(t.body.name, /^[0-9a-f]{8}$/)
      assert.equal((await waitForTask(dev, t.body.guid)).state, 'SUCCEEDED')
    })

    it("fails with Diego's failure reason on a non-zero exit", async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: './run.sh y 3', name: 'migrate' }), 202)
      const done = await waitForTask(dev, t.body.guid)
      assert.equal(done.state, 'FAILED')
      assert.equal(done.result.failure_reason, 'APP/TASK/migrate: Exited with status 3')
    })

    it('allocates sequence ids safely under concurrent creation', async () => {
      const before = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?per_page=5000`)).body.pagination.total_results as number
      const results = await Promise.all(Array.from({ length: 15 }, () => dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'true' })))
      const ids = results.map((r) => {
        assert.equal(r.status, 202, JSON.stringify(r.body))
        return r.body.sequence_id as number
      })
      assert.deepEqual(
        [...ids].sort((a, b) => a - b),
        Array.from({ length: 15 }, (_, i) => before + i + 1),
      )
      await Promise.all(results.map((r) => waitForTask(dev, r.body.guid)))
    })

    it('shows the command to developers only, and never in /v3/tasks', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'echo secret-command' }), 202)
      assert.equal(expectOk(await dev.get(`/v3/tasks/${t.body.guid}`)).body.command, 'echo secret-command')
      assert.equal(expectOk(await admin.get(`/v3/tasks/${t.body.guid}`)).body.command, 'echo secret-command')
      const seen = expectOk(await auditor.get(`/v3/tasks/${t.body.guid}`))
      assert.equal('command' in seen.body, false)
      const inAppList = expectOk(await auditor.get(`/v3/apps/${appGuid}/tasks`))
      assert.ok(inAppList.body.resources.every((r: Record<string, unknown>) => !('command' in r)))
      const list = expectOk(await dev.get('/v3/tasks'))
      assert.ok(list.body.resources.length > 0)
      assert.ok(list.body.resources.every((r: Record<string, unknown>) => !('command' in r)))
      assert.equal((await outsider.get(`/v3/tasks/${t.body.guid}`)).status, 404)
      assert.equal(expectOk(await outsider.get('/v3/tasks')).body.pagination.total_results, 0)
    })

    it('cancels a running task and its whole process tree', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 300 & sleep 300', name: 'sleeper' }), 202)
      for (let i = 0; i < 200; i++) {
        if (expectOk(await dev.get(`/v3/tasks/${t.body.guid}`)).body.state === 'RUNNING') break
        await new Promise((r) => setTimeout(r, 50))
      }
      const c = await dev.put(`/v3/tasks/${t.body.guid}/cancel`)
      assert.equal(c.status, 202)
      assert.equal(c.body.state, 'CANCELING')
      const done = await waitForTask(dev, t.body.guid)
      assert.equal(done.state, 'FAILED')
      assert.equal(done.result.failure_reason, 'task was cancelled')
      const again = await dev.post(`/v3/tasks/${t.body.guid}/actions/cancel`)
      assert.equal(again.status, 422)
      assert.equal(again.body.errors[0].detail, 'Task state is FAILED and therefore cannot be canceled')
    })

    it('answers bad input with CF errors', async () => {
      const cases: [unknown, number, string | RegExp][] = [
        [{ command: 'true', memory_in_mb: 'lots' }, 422, 'Memory in mb is not a number'],
        [{ command: 'true', memory_in_mb: 0 }, 422, 'Memory in mb must be greater than 0'],
        [{ command: 'true', disk_in_mb: 1.5 }, 422, 'Disk in mb must be an integer'],
        [{ command: 'true', bogus: 1 }, 422, "Unknown field(s): 'bogus'"],
        [{ name: 'x' }, 422, /No command or template provided/],
        [{ command: 'x'.repeat(4097) }, 422, 'command must be shorter than 4097 characters'],
        [{ command: 'true', droplet_guid: '00000000-0000-0000-0000-000000000000' }, 404, 'Droplet not found'],
      ]
      for (const [body, status, detail] of cases) {
        const r = await dev.post(`/v3/apps/${appGuid}/tasks`, body)
        assert.equal(r.status, status, JSON.stringify(body))
        if (detail instanceof RegExp) assert.match(r.body.errors[0].detail, detail)
        else assert.equal(r.body.errors[0].detail, detail)
      }
      const unknownApp = await dev.post('/v3/apps/00000000-0000-0000-0000-000000000000/tasks', { command: 'true' })
      assert.equal(unknownApp.status, 404)
      assert.equal(unknownApp.body.errors[0].detail, 'App not found')
      assert.equal((await auditor.post(`/v3/apps/${appGuid}/tasks`, { command: 'true' })).status, 403)
      assert.equal((await outsider.post(`/v3/apps/${appGuid}/tasks`, { command: 'true' })).status, 404)
      const bare = expectOk(await dev.post('/v3/apps', { name: 'no-droplet', relationships: { space: { data: { guid: spaceGuid } } } }), 201)
      const noDroplet = await dev.post(`/v3/apps/${bare.body.guid}/tasks`, { command: 'true' })
      assert.equal(noDroplet.status, 422)
      assert.equal(noDroplet.body.errors[0].detail, 'Task must have a droplet. Specify droplet or assign current droplet to app.')
    })

    it('filters tasks by state, name and sequence id, and pages them', async () => {
      const failed = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?states=FAILED`))
      assert.ok(failed.body.resources.length >= 2)
      assert.ok(failed.body.resources.every((t: { state: string }) => t.state === 'FAILED'))
      const byName = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?names=migrate`))
      assert.equal(byName.body.resources.length, 1)
      const bySeq = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?sequence_ids=1&page=1&per_page=1`))
      assert.equal(bySeq.body.resources[0].name, 'check-env')
      const paged = expectOk(await dev.get(`/v3/tasks?app_guids=${appGuid}&per_page=2&order_by=-created_at`))
      assert.equal(paged.body.resources.length, 2)
      assert.ok(paged.body.pagination.next.href.includes('page=2'))
      assert.equal((await dev.get('/v3/tasks?sequence_ids=1')).status, 400)
      assert.equal((await dev.get(`/v3/apps/${appGuid}/tasks?states=BOGUS`)).status, 400)
    })

    it('updates task metadata only', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'true' }), 202)
      const u = expectOk(await dev.patch(`/v3/tasks/${t.body.guid}`, { metadata: { labels: { team: 'ops' } } }))
      assert.deepEqual(u.body.metadata.labels, { team: 'ops' })
      assert.equal((await dev.patch(`/v3/tasks/${t.body.guid}`, { command: 'x' })).status, 422)
      await waitForTask(dev, t.body.guid)
    })
  })
}

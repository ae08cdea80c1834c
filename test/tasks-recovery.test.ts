import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

for (const store of stores()) {
  describe(`task crash recovery [${store}]`, () => {
    const servers: TestServer[] = []
    after(async () => {
      for (const s of servers) await s.stop('SIGKILL')
    })

    it('fails tasks lost with a SIGKILLed server and resumes queued ones after restart', async () => {
      const env = { CF_LEDGER_TASK_CONCURRENCY: '1' }
      const first = await startServer(store, { env })
      servers.push(first)
      let admin = await new Api(first.url).admin()
      const { spaceGuid } = await createOrgAndSpace(admin, 'o', 's')
      const appGuid = await pushApp(admin, spaceGuid, 'app')
      const running = expectOk(await admin.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 600', name: 'long' }), 202)
      for (let i = 0; i < 200; i++) {
        if (expectOk(await admin.get(`/v3/tasks/${running.body.guid}`)).body.state === 'RUNNING') break
        await new Promise((r) => setTimeout(r, 50))
      }
      const queued = expectOk(await admin.post(`/v3/apps/${appGuid}/tasks`, { command: 'true', name: 'queued' }), 202)
      assert.equal(expectOk(await admin.get(`/v3/tasks/${queued.body.guid}`)).body.state, 'PENDING')

      await first.stop('SIGKILL')
      const second = await first.restart()
      servers.push(second)
      admin = await new Api(second.url).admin()
      const lost = await waitForTask(admin, running.body.guid)
      assert.equal(lost.state, 'FAILED')
      assert.equal(lost.result.failure_reason, 'Unable to determine completion status')
      const resumed = await waitForTask(admin, queued.body.guid)
      assert.equal(resumed.state, 'SUCCEEDED')
    })
  })
}

// Who may read logs: every log endpoint against every role (log-cache's rule: whoever can see
// the app; admin scopes see all; anyone else gets 404, never 403).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { expectOk, type Api } from './support/client.ts'
import { stores } from './support/server.ts'
import { CALLER_ROLES, callerWith, GLOBAL_READERS, type CallerRole } from './support/roles.ts'
import { contextOf, createApp, insertTask, runFakeTask, setTaskState, startHarness, type FakeApp, type Harness } from './support/logs-harness.ts'

const READERS: readonly CallerRole[] = ['admin', 'admin_read_only', 'global_auditor', 'space_developer', 'space_auditor', 'space_manager', 'space_supporter', 'organization_manager']
const NON_READERS = CALLER_ROLES.filter((r) => !READERS.includes(r))

for (const store of stores()) {
  describe(`log endpoint authorization [${store}]`, () => {
    let h: Harness
    let app: FakeApp
    let other: FakeApp
    let taskGuid: string
    const callers = new Map<string, Api>()

    before(async () => {
      h = await startHarness(store)
      app = await createApp(h.admin, 'auth-app')
      other = await createApp(h.admin, 'other-app')
      const ctx = contextOf(app, { name: 'secret-task' })
      taskGuid = ctx.taskGuid
      await insertTask(h.pipeline, ctx)
      await runFakeTask(h.pipeline, ctx, ['visible line'])
      await setTaskState(h.pipeline, ctx.taskGuid, 'SUCCEEDED')
      await runFakeTask(h.pipeline, contextOf(other), ['other line'])
      expectOk(
        await h.admin.post('/v3/service_credential_bindings', {
          type: 'app',
          relationships: {
            app: { data: { guid: app.appGuid } },
            service_instance: {
              data: {
                guid: expectOk(
                  await h.admin.post('/v3/service_instances', { type: 'user-provided', name: 'auth-drain', syslog_drain_url: 'syslog://127.0.0.1:9/x', relationships: { space: { data: { guid: app.spaceGuid } } } }),
                  201,
                ).body.guid,
              },
            },
          },
        }),
        201,
      )
      for (const role of CALLER_ROLES) callers.set(role, await callerWith(h.admin, role, app, { as: GLOBAL_READERS.includes(role) ? 'client' : 'user' }))
    })
    after(() => h.close())

    for (const role of READERS) {
      it(`${role} reads the app's logs, meta, stream, task output and drain counters`, async () => {
        const api = callers.get(role)!
        const r = expectOk(await api.get(`/api/v1/read/${app.appGuid}?limit=1000`))
        assert.ok(r.body.envelopes.batch.length >= 7)
        const meta = expectOk(await api.get('/api/v1/meta')).body.meta
        assert.ok(meta[app.appGuid], 'own app in meta')
        const global = GLOBAL_READERS.includes(role)
        assert.equal(!!meta[other.appGuid], global, 'other apps only for global readers')
        const out = await api.get(`/v3/tasks/${taskGuid}/output`)
        assert.equal(out.status, 200)
        assert.equal(out.body, 'visible line\n')
        const ac = new AbortController()
        const sse = await fetch(`${h.app.url}/v2/read?log&source_id=${app.appGuid}`, { headers: { authorization: `bearer ${api.token}` }, signal: ac.signal })
        assert.equal(sse.status, 200)
        ac.abort()
        const drains = expectOk(await api.get('/api/v1/drains')).body.drains
        assert.equal(drains.length, 1)
        assert.equal(drains[0].url, 'syslog://127.0.0.1:9/x')
      })
    }

    for (const role of NON_READERS) {
      it(`${role} gets 404 from every log endpoint for the app`, async () => {
        const api = callers.get(role)!
        const r = await api.get(`/api/v1/read/${app.appGuid}`)
        assert.equal(r.status, 404)
        assert.equal(r.body.error, 'not_found')
        assert.deepEqual(expectOk(await api.get('/api/v1/meta')).body.meta, {})
        const out = await api.get(`/v3/tasks/${taskGuid}/output`)
        assert.equal(out.status, 404)
        assert.equal(out.body.errors[0].detail, 'Task not found')
        const sse = await api.get(`/v2/read?log&source_id=${app.appGuid}`)
        assert.equal(sse.status, 404)
        assert.deepEqual(expectOk(await api.get('/api/v1/drains')).body.drains, [])
      })
    }

    it('non-admins get 404 for unknown sources and must name a source on the stream; no token is 401', async () => {
      const dev = callers.get('space_developer')!
      assert.equal((await dev.get(`/api/v1/read/${crypto.randomUUID()}`)).status, 404)
      assert.equal((await dev.get('/v2/read?log')).status, 404)
      assert.equal((await dev.get(`/v2/read?log&source_id=${app.appGuid}&source_id=${other.appGuid}`)).status, 404)
      assert.equal((await h.api.get(`/api/v1/read/${app.appGuid}`)).status, 401)
      assert.equal((await h.api.get('/api/v1/meta')).status, 401)
      assert.equal((await h.api.get(`/v3/tasks/${taskGuid}/output`)).status, 401)
      expectOk(await h.api.get('/api/v1/info'))
    })
  })
}

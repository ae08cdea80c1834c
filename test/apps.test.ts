import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { withStore } from './support/db.ts'
import { pushApp } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

async function eventsOf(api: Api, appGuid: string): Promise<{ type: string; data: Record<string, any> }[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return expectOk(await api.get(`/v3/audit_events?target_guids=${appGuid}&per_page=5000&order_by=created_at`)).body.resources
}

for (const store of stores()) {
  describe(`apps and processes [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let spaceGuid: string

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_TASK_CANCEL_GRACE_MS: '200' } })
      admin = await new Api(server.url).admin()
      const ids = await createOrgAndSpace(admin, 'o', 's')
      spaceGuid = ids.spaceGuid
      const d = await createUser(admin, 'dev')
      const a = await createUser(admin, 'aud')
      const o = await createUser(admin, 'out')
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: ids.orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      dev = d.api
      auditor = a.api
      outsider = o.api
    })
    after(() => server.stop())

    it('creates, lists, filters, updates apps with CC shapes and censored events', async () => {
      const created = expectOk(
        await dev.post('/v3/apps', {
          name: 'web-api',
          relationships: { space: { data: { guid: spaceGuid } } },
          environment_variables: { TOKEN: 's3cret' },
          metadata: { labels: { tier: 'backend' } },
        }),
        201,
      ).body
      assert.equal(created.state, 'STOPPED')
      assert.deepEqual(created.lifecycle, { type: 'buildpack', data: { buildpacks: [], stack: 'cflinuxfs4' } })
      assert.deepEqual(created.relationships.space.data, { guid: spaceGuid })
      assert.equal(created.links.tasks.href, `${server.url}/v3/apps/${created.guid}/tasks`)
      const dup = await dev.post('/v3/apps', { name: 'web-api', relationships: { space: { data: { guid: spaceGuid } } } })
      assert.equal(dup.status, 422)
      assert.equal(dup.body.errors[0].detail, "App with the name 'web-api' already exists.")
      const byName = expectOk(await auditor.get(`/v3/apps?names=web-api&space_guids=${spaceGuid}`)).body
      assert.equal(byName.resources[0].guid, created.guid)
      assert.equal(expectOk(await dev.get('/v3/apps?label_selector=tier=backend')).body.resources.length, 1)
      assert.equal(expectOk(await outsider.get('/v3/apps')).body.pagination.total_results, 0)
      assert.equal((await outsider.get(`/v3/apps/${created.guid}`)).status, 404)
      assert.equal((await auditor.patch(`/v3/apps/${created.guid}`, { name: 'x' })).status, 403)
      const renamed = expectOk(await dev.patch(`/v3/apps/${created.guid}`, { name: 'web-api-2' })).body
      assert.equal(renamed.name, 'web-api-2')
      const events = await eventsOf(admin, created.guid)
      assert.deepEqual(events.map((e) => e.type), ['audit.app.create', 'audit.app.update'])
      assert.equal(events[0]!.data.request.environment_variables, '[PRIVATE DATA HIDDEN]')
      assert.equal(events[0]!.data.request.name, 'web-api')
    })

    it('guards environment variables: developers read and write, auditors get 403, events hide values', async () => {
      const app = expectOk(await dev.post('/v3/apps', { name: 'env-app', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body
      const set = expectOk(await dev.patch(`/v3/apps/${app.guid}/environment_variables`, { var: { A: '1', B: '2' } })).body
      assert.deepEqual(set.var, { A: '1', B: '2' })
      const unset = expectOk(await dev.patch(`/v3/apps/${app.guid}/environment_variables`, { var: { A: null } })).body
      assert.deepEqual(unset.var, { B: '2' })
      assert.equal((await auditor.get(`/v3/apps/${app.guid}/environment_variables`)).status, 403)
      assert.equal((await auditor.get(`/v3/apps/${app.guid}/env`)).status, 403)
      const env = expectOk(await dev.get(`/v3/apps/${app.guid}/env`)).body
      assert.deepEqual(env.environment_variables, { B: '2' })
      assert.equal(env.application_env_json.VCAP_APPLICATION.application_name, 'env-app')
      const types = (await eventsOf(admin, app.guid)).map((e) => e.type)
      assert.deepEqual(types, ['audit.app.create', 'audit.app.update', 'audit.app.update', 'audit.app.environment.show'])
      const update = (await eventsOf(admin, app.guid))[1]!
      assert.equal(update.data.request.environment_variables, '[PRIVATE DATA HIDDEN]')
    })

    it('has web and task processes with stats that say long-running processes do not run', async () => {
      const guid = await pushApp(dev, spaceGuid, 'procs')
      const procs = expectOk(await dev.get(`/v3/apps/${guid}/processes`)).body.resources
      assert.deepEqual(procs.map((p: { type: string }) => p.type).sort(), ['task', 'web'])
      const web = expectOk(await dev.get(`/v3/apps/${guid}/processes/web`)).body
      const stats = expectOk(await dev.get(`/v3/processes/${web.guid}/stats`)).body
      assert.equal(stats.resources[0].state, 'DOWN')
      assert.match(stats.resources[0].details, /tasks only/)
      const started = expectOk(await dev.post(`/v3/apps/${guid}/actions/start`)).body
      assert.equal(started.state, 'STARTED')
      expectOk(await dev.post(`/v3/apps/${guid}/actions/stop`))
      const scaled = expectOk(await dev.post(`/v3/processes/${web.guid}/actions/scale`, { instances: 2, memory_in_mb: 256 }), 202).body
      assert.equal(scaled.instances, 2)
      const patched = expectOk(await dev.patch(`/v3/processes/${web.guid}`, { command: 'bin/serve --secret' })).body
      assert.equal(patched.command, 'bin/serve --secret')
      const events = await eventsOf(admin, guid)
      const update = events.find((e) => e.type === 'audit.app.process.update')!
      assert.equal(update.data.request.command, '[PRIVATE DATA HIDDEN]')
      assert.ok(events.some((e) => e.type === 'audit.app.start') && events.some((e) => e.type === 'audit.app.stop'))
      assert.equal(expectOk(await dev.get(`/v3/processes?app_guids=${guid}`)).body.resources.length, 2)
      assert.equal(expectOk(await dev.get(`/v3/apps/${guid}/routes`)).body.resources.length, 0)
      const noDroplet = expectOk(await dev.post('/v3/apps', { name: 'bare', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body
      const refused = await dev.post(`/v3/apps/${noDroplet.guid}/actions/start`)
      assert.equal(refused.status, 422)
    })

    it('deletes an app with a job, cancels its running task with an event, and removes its bits', async () => {
      const guid = await pushApp(dev, spaceGuid, 'doomed')
      const t = expectOk(await dev.post(`/v3/apps/${guid}/tasks`, { command: 'sleep 300', name: 'long' }), 202).body
      for (let i = 0; i < 200 && expectOk(await dev.get(`/v3/tasks/${t.guid}`)).body.state !== 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 50))
      }
      const del = await dev.delete(`/v3/apps/${guid}`)
      assert.equal(del.status, 202)
      const job = await dev.waitForJob(del.headers.get('location')!)
      assert.equal(job.body.state, 'COMPLETE', JSON.stringify(job.body))
      assert.equal((await dev.get(`/v3/apps/${guid}`)).status, 404)
      assert.equal((await dev.get(`/v3/tasks/${t.guid}`)).status, 404)
      const types = (await eventsOf(admin, guid)).map((e) => e.type)
      for (const type of ['audit.app.delete-request', 'audit.app.task.cancel', 'audit.app.stop']) assert.ok(types.includes(type), `${type} in ${types}`)
      // The trail outlives the app.
      let trail
      for (let i = 0; i < 100; i++) {
        trail = expectOk(await admin.get(`/ledger/v1/tasks/${t.guid}/trail`)).body
        if (trail.task.state === 'FAILED') break
        await new Promise((r) => setTimeout(r, 100))
      }
      assert.equal(trail.task.state, 'FAILED')
      assert.equal(trail.task.failure_reason, 'task was cancelled')
      const left = await withStore(server, (q) =>
        q<{ n: number }>(
          `select count(*)::int as n from blobs where not exists (select 1 from packages p where p.blob_guid = blobs.guid)
             and not exists (select 1 from droplets d where d.blob_guid = blobs.guid)`,
        ),
      )
      assert.equal(left[0]!.n, 0)
      if (store === 'embedded') server = await server.restart()
    })
  })
}

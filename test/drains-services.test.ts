// User-provided service instances and app bindings, as cf cups / bind-service / unbind-service /
// delete-service use them: CC shapes, errors, permissions, audit events with redaction, and the
// operator's refusal of drain URLs (blocked ranges, this server).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

for (const store of stores()) {
  describe(`user-provided service instances and bindings [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let orgGuid: string
    let spaceGuid: string
    let appGuid: string

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_DRAIN_BLOCKED_RANGES: '192.0.2.0/24,198.51.100.0/24' } })
      admin = await new Api(server.url).admin()
      ;({ orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'svc-org', 'svc-space'))
      const d = await createUser(admin, 'svc-dev')
      await grant(admin, 'organization_user', d.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      dev = d.api
      const a = await createUser(admin, 'svc-auditor')
      await grant(admin, 'organization_user', a.guid, { org: orgGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      auditor = a.api
      outsider = (await createUser(admin, 'svc-outsider')).api
      appGuid = expectOk(await dev.post('/v3/apps', { name: 'svc-app', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body.guid
    })
    after(() => server.stop())

    const events = async (type: string, target: string): Promise<Json> =>
      expectOk(await admin.get(`/v3/audit_events?types=${type}&target_guids=${target}`)).body.resources

    it('creates, lists, reads, updates and deletes a user-provided instance as CC does, with redacted events', async () => {
      const body = {
        type: 'user-provided',
        name: 'my-drain',
        syslog_drain_url: 'syslog-tls://drainuser:drainpass@logs.example.com:6514',
        credentials: { password: 'hunter2', ca: 'PEM' },
        tags: ['logs'],
        relationships: { space: { data: { guid: spaceGuid } } },
      }
      const c = expectOk(await dev.post('/v3/service_instances', body), 201)
      const si = c.body
      assert.equal(si.type, 'user-provided')
      assert.equal(si.name, 'my-drain')
      assert.equal(si.syslog_drain_url, body.syslog_drain_url)
      assert.equal(si.route_service_url, null)
      assert.deepEqual(si.tags, ['logs'])
      assert.equal('credentials' in si, false, 'credentials are never in the resource')
      assert.deepEqual(si.relationships, { space: { data: { guid: spaceGuid } } })
      assert.equal(si.last_operation.state, 'succeeded')
      assert.equal(si.links.credentials.href, `${server.url}/v3/service_instances/${si.guid}/credentials`)
      const list = expectOk(await auditor.get(`/v3/service_instances?names=my-drain&space_guids=${spaceGuid}&type=user-provided`)).body
      assert.equal(list.pagination.total_results, 1)
      assert.equal(expectOk(await admin.get('/v3/service_instances?type=managed')).body.pagination.total_results, 0)
      expectOk(await auditor.get(`/v3/service_instances/${si.guid}`))
      assert.equal((await outsider.get(`/v3/service_instances/${si.guid}`)).status, 404)
      assert.equal(expectOk(await outsider.get('/v3/service_instances')).body.pagination.total_results, 0)

      assert.equal((await auditor.get(`/v3/service_instances/${si.guid}/credentials`)).status, 403)
      assert.deepEqual(expectOk(await dev.get(`/v3/service_instances/${si.guid}/credentials`)).body, body.credentials)

      const created = (await events('audit.user_provided_service_instance.create', si.guid))[0]
      assert.equal(created.target.type, 'user_provided_service_instance')
      assert.equal(created.target.name, 'my-drain')
      assert.equal(created.space.guid, spaceGuid)
      assert.equal(created.organization.guid, orgGuid)
      assert.equal(created.data.request.credentials, '[REDACTED]')
      assert.equal(created.data.request.syslog_drain_url, 'syslog-tls://***:***@logs.example.com:6514')
      assert.equal(created.data.request.name, 'my-drain')
      assert.ok(!JSON.stringify(created).includes('hunter2') && !JSON.stringify(created).includes('drainpass'))
      assert.equal((await events('audit.user_provided_service_instance.show', si.guid)).length, 1)

      const u = expectOk(await dev.patch(`/v3/service_instances/${si.guid}`, { credentials: { password: 'new-secret' }, syslog_drain_url: 'https://u:p@logs.example.com/x' }))
      assert.equal(u.body.syslog_drain_url, 'https://u:p@logs.example.com/x')
      const updated = (await events('audit.user_provided_service_instance.update', si.guid))[0]
      assert.deepEqual(updated.data.request, { credentials: '[REDACTED]', syslog_drain_url: 'https://***:***@logs.example.com/x' })
      assert.equal((await auditor.patch(`/v3/service_instances/${si.guid}`, { name: 'x' })).status, 403)

      const b = expectOk(await dev.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: appGuid } }, service_instance: { data: { guid: si.guid } } } }), 201)
      expectOk(await dev.delete(`/v3/service_instances/${si.guid}`), 204)
      assert.equal((await admin.get(`/v3/service_instances/${si.guid}`)).status, 404)
      assert.equal((await admin.get(`/v3/service_credential_bindings/${b.body.guid}`)).status, 404)
      assert.deepEqual((await events('audit.user_provided_service_instance.delete', si.guid))[0].data, { request: {} })
      assert.deepEqual((await events('audit.service_binding.delete', b.body.guid))[0].data, { request: { app_guid: appGuid, service_instance_guid: si.guid } })
    })

    it('binds and unbinds apps as cf bind-service / unbind-service do, with service_binding events', async () => {
      const si = expectOk(await dev.post('/v3/service_instances', { type: 'user-provided', name: 'bindme', syslog_drain_url: 'syslog://127.0.0.1:9', credentials: { k: 'v' }, relationships: { space: { data: { guid: spaceGuid } } } }), 201).body
      const req = { type: 'app', name: 'named', relationships: { app: { data: { guid: appGuid } }, service_instance: { data: { guid: si.guid } } } }
      assert.equal((await auditor.post('/v3/service_credential_bindings', req)).status, 403)
      const b = expectOk(await dev.post('/v3/service_credential_bindings', req), 201).body
      assert.equal(b.type, 'app')
      assert.equal(b.name, 'named')
      assert.deepEqual(b.relationships, { app: { data: { guid: appGuid } }, service_instance: { data: { guid: si.guid } } })
      assert.equal(b.links.details.href, `${server.url}/v3/service_credential_bindings/${b.guid}/details`)
      const again = await dev.post('/v3/service_credential_bindings', req)
      assert.equal(again.status, 422)
      assert.equal(again.body.errors[0].detail, 'The app is already bound to the service instance.')
      const found = expectOk(await dev.get(`/v3/service_credential_bindings?app_guids=${appGuid}&service_instance_guids=${si.guid}&type=app&include=app`)).body
      assert.equal(found.pagination.total_results, 1)
      assert.equal(found.included.apps[0].guid, appGuid)
      assert.equal((await outsider.get(`/v3/service_credential_bindings/${b.guid}`)).status, 404)
      assert.equal((await auditor.get(`/v3/service_credential_bindings/${b.guid}/details`)).status, 403)
      assert.deepEqual(expectOk(await dev.get(`/v3/service_credential_bindings/${b.guid}/details`)).body, { credentials: { k: 'v' }, syslog_drain_url: 'syslog://127.0.0.1:9', volume_mounts: [] })
      const created = (await events('audit.service_binding.create', b.guid))[0]
      assert.equal(created.target.type, 'service_binding')
      assert.equal(created.target.name, 'named')
      assert.equal(created.space.guid, spaceGuid)
      assert.equal(created.data.request.type, 'app')
      assert.deepEqual((await events('audit.service_binding.show', b.guid))[0].data, { request: { service_instance_guid: si.guid, app_guid: appGuid } })
      assert.ok(expectOk(await admin.get(`/api/v1/drains`)).body.drains.some((d: Json) => d.binding_guid === b.guid), 'drain registered')
      assert.equal((await auditor.delete(`/v3/service_credential_bindings/${b.guid}`)).status, 403)
      expectOk(await dev.delete(`/v3/service_credential_bindings/${b.guid}`), 204)
      assert.equal(expectOk(await admin.get(`/api/v1/drains`)).body.drains.some((d: Json) => d.binding_guid === b.guid), false)
      assert.deepEqual((await events('audit.service_binding.delete', b.guid))[0].data, { request: { app_guid: appGuid, service_instance_guid: si.guid } })
    })

    it("answers bad requests with CC's errors", async () => {
      const space = { relationships: { space: { data: { guid: spaceGuid } } } }
      const cases: [Json, number, string][] = [
        [{ type: 'user-provided', ...space }, 422, "Name can't be blank"],
        [{ type: 'user-provided', name: 'bad', syslog_drain_url: 'not a url', ...space }, 422, 'Syslog drain url must be a valid URI'],
        [{ type: 'user-provided', name: 'bad', route_service_url: 'http://x.example.com', ...space }, 422, 'Route service url must be https'],
        [{ type: 'user-provided', name: 'bad', credentials: 'x', ...space }, 422, 'Credentials must be an object'],
        [{ type: 'user-provided', name: 'bad', bogus: 1, ...space }, 422, "Unknown field(s): 'bogus'"],
        [{ type: 'user-provided', name: 'bad', relationships: { space: { data: { guid: crypto.randomUUID() } } } }, 422, 'Invalid space. Ensure that the space exists and you have access to it.'],
      ]
      for (const [body, status, detail] of cases) {
        const r = await dev.post('/v3/service_instances', body)
        assert.equal(r.status, status, JSON.stringify(body))
        assert.equal(r.body.errors[0].detail, detail)
      }
      expectOk(await dev.post('/v3/service_instances', { type: 'user-provided', name: 'dup', ...space }), 201)
      const dup = await dev.post('/v3/service_instances', { type: 'user-provided', name: 'dup', ...space })
      assert.equal(dup.status, 422)
      assert.equal(dup.body.errors[0].detail, 'The service instance name is taken: dup')
      const outsiderCreate = await outsider.post('/v3/service_instances', { type: 'user-provided', name: 'x', ...space })
      assert.equal(outsiderCreate.status, 422)
      assert.equal((await auditor.post('/v3/service_instances', { type: 'user-provided', name: 'y', ...space })).status, 403)
      const q = await dev.get('/v3/service_instances?bogus=1')
      assert.equal(q.status, 400)
      assert.equal(q.body.errors[0].title, 'CF-BadQueryParameter')
      const si = expectOk(await dev.post('/v3/service_instances', { type: 'user-provided', name: 'params', ...space }), 201).body
      const rel = { app: { data: { guid: appGuid } }, service_instance: { data: { guid: si.guid } } }
      const withParams = await dev.post('/v3/service_credential_bindings', { type: 'app', parameters: { a: 1 }, relationships: rel })
      assert.equal(withParams.body.errors[0].detail, 'Binding parameters are not supported for user-provided service instances')
      const key = await dev.post('/v3/service_credential_bindings', { type: 'key', relationships: rel })
      assert.equal(key.status, 422)
      const missing = await dev.post('/v3/service_credential_bindings', { type: 'app', relationships: { ...rel, service_instance: { data: { guid: 'nope' } } } })
      assert.equal(missing.body.errors[0].detail, 'The service instance could not be found: nope')
      assert.equal((await dev.get(`/v3/service_credential_bindings/${crypto.randomUUID()}`)).body.errors[0].detail, 'Service credential binding not found')
    })

    it('refuses drain URLs into blocked ranges or at this server, when configured', async () => {
      const space = { relationships: { space: { data: { guid: spaceGuid } } } }
      const port = new URL(server.url).port
      for (const [url, why] of [
        [`syslog://127.0.0.1:${port}`, 'it points at this server'],
        [`https://localhost:${port}/drain`, 'it points at this server'],
        ['syslog://192.0.2.10:514', 'the address 192.0.2.10 is in a blocked range'],
        ['syslog-tls://198.51.100.7:6514', 'the address 198.51.100.7 is in a blocked range'],
      ]) {
        const r = await dev.post('/v3/service_instances', { type: 'user-provided', name: `refused-${Math.random()}`, syslog_drain_url: url, ...space })
        assert.equal(r.status, 422, url)
        assert.equal(r.body.errors[0].detail, `Syslog drain url is not allowed: ${why}`)
      }
      const ok = expectOk(await dev.post('/v3/service_instances', { type: 'user-provided', name: 'allowed', syslog_drain_url: 'syslog://127.0.0.1:9', ...space }), 201)
      const patched = await dev.patch(`/v3/service_instances/${ok.body.guid}`, { syslog_drain_url: 'syslog://192.0.2.1:514' })
      assert.equal(patched.status, 422)
    })

    it('deleting a space deletes its user-provided instances and their bindings, with their events', async () => {
      const s2 = expectOk(await admin.post('/v3/spaces', { name: 'doomed', relationships: { organization: { data: { guid: orgGuid } } } }), 201).body.guid
      const app2 = expectOk(await admin.post('/v3/apps', { name: 'doomed-app', relationships: { space: { data: { guid: s2 } } } }), 201).body.guid
      const si = expectOk(await admin.post('/v3/service_instances', { type: 'user-provided', name: 'doomed-drain', syslog_drain_url: 'syslog://127.0.0.1:9', relationships: { space: { data: { guid: s2 } } } }), 201).body
      const b = expectOk(await admin.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: app2 } }, service_instance: { data: { guid: si.guid } } } }), 201).body
      const del = await admin.delete(`/v3/spaces/${s2}`)
      assert.equal(del.status, 202)
      const job = await admin.waitForJob(del.headers.get('location')!)
      assert.equal(job.body.state, 'COMPLETE', JSON.stringify(job.body))
      assert.equal((await admin.get(`/v3/service_instances/${si.guid}`)).status, 404)
      assert.equal((await events('audit.service_binding.delete', b.guid)).length, 1)
      assert.equal((await events('audit.user_provided_service_instance.delete', si.guid)).length, 1)
    })

    it('deleting an app records the deletion of its bindings', async () => {
      const app3 = expectOk(await admin.post('/v3/apps', { name: 'unbound-by-delete', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body.guid
      const si = expectOk(await admin.post('/v3/service_instances', { type: 'user-provided', name: 'kept-drain', syslog_drain_url: 'syslog://127.0.0.1:9', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body
      const b = expectOk(await admin.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: app3 } }, service_instance: { data: { guid: si.guid } } } }), 201).body
      const del = await admin.delete(`/v3/apps/${app3}`)
      assert.equal((await admin.waitForJob(del.headers.get('location')!)).body.state, 'COMPLETE')
      assert.equal((await events('audit.service_binding.delete', b.guid)).length, 1)
      assert.equal((await admin.get(`/v3/service_instances/${si.guid}`)).status, 200)
    })
  })
}

// Issue 13 over HTTP, one server per store: feature flags (shapes, errors, and the flags that
// change behaviour), the fixed and empty platform resources, environment variable groups, the
// client-library reads (include, process list query, permissions, manifest, org/space users,
// usage summary, app usage events) and metadata sent as null. The cf CLI view of the same is in
// cf-cli.test.ts.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

for (const store of stores()) {
  describe(`platform resources and feature flags [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let anon: Api
    let orgGuid: string
    let spaceGuid: string
    let dev: { guid: string; api: Api }
    let supporter: { guid: string; api: Api }
    let auditor: { guid: string; api: Api }
    let appGuid: string

    const setFlag = async (name: string, enabled: boolean) => expectOk(await admin.patch(`/v3/feature_flags/${name}`, { enabled }))

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      anon = new Api(server.url)
      ;({ orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'pf-org', 'pf-space'))
      dev = await createUser(admin, 'pf-dev')
      supporter = await createUser(admin, 'pf-supporter')
      auditor = await createUser(admin, 'pf-auditor')
      for (const [u, role] of [
        [dev, 'space_developer'],
        [supporter, 'space_supporter'],
        [auditor, 'space_auditor'],
      ] as const) {
        await grant(admin, 'organization_user', u.guid, { org: orgGuid })
        await grant(admin, role, u.guid, { space: spaceGuid })
      }
      appGuid = await pushApp(dev.api, spaceGuid, 'pf-app', {
        'run.sh': { content: '#!/bin/sh\necho "vcap=$VCAP_SERVICES"\n', mode: 0o755 },
        Procfile: 'web: ./run.sh web\ntask: ./run.sh task\n',
      })
    })
    after(async () => {
      await server?.stop()
    })

    it('lists and reads feature flags with CC defaults; only admins set them; bad input is CC errors', async () => {
      const all = expectOk(await dev.api.get('/v3/feature_flags?per_page=5&page=2')).body
      assert.equal(all.pagination.total_results, 19)
      assert.equal(all.resources.length, 5)
      assert.match(all.pagination.previous.href, /page=1&per_page=5$/)
      const flag = expectOk(await dev.api.get('/v3/feature_flags/user_org_creation')).body
      assert.deepEqual(flag, {
        name: 'user_org_creation',
        enabled: false,
        updated_at: null,
        custom_error_message: null,
        links: { self: { href: `${server.url}/v3/feature_flags/user_org_creation` } },
      })
      assert.equal((await dev.api.get('/v3/feature_flags/nope')).body.errors[0].detail, 'Feature flag not found')
      assert.equal((await dev.api.patch('/v3/feature_flags/task_creation', { enabled: false })).status, 403)
      const bad = await admin.patch('/v3/feature_flags/task_creation', { enabled: 'no' })
      assert.equal(bad.status, 422)
      assert.equal((await admin.patch('/v3/feature_flags/task_creation', { other: 1 })).status, 422)
      assert.equal((await dev.api.get('/v3/feature_flags?names=x')).status, 400)
      const set = expectOk(await admin.patch('/v3/feature_flags/task_creation', { enabled: false, custom_error_message: 'tasks are paused' })).body
      assert.equal(set.enabled, false)
      assert.ok(set.updated_at)
      const refused = await dev.api.post(`/v3/apps/${appGuid}/tasks`, { command: 'true' })
      assert.equal(refused.status, 403)
      assert.deepEqual(refused.body.errors[0], { code: 330002, title: 'CF-FeatureDisabled', detail: 'Feature Disabled: tasks are paused' })
      expectOk(await admin.patch('/v3/feature_flags/task_creation', { enabled: true, custom_error_message: null }))
      const events = expectOk(await admin.get('/v3/audit_events?types=audit.feature_flag.update')).body.resources
      assert.equal(events.length, 2)
      assert.deepEqual(events[0].target, { guid: 'task_creation', type: 'feature_flag', name: 'task_creation' })
    })

    it('user_org_creation lets a user create an org and become its manager', async () => {
      assert.equal((await dev.api.post('/v3/organizations', { name: 'pf-own' })).status, 403)
      await setFlag('user_org_creation', true)
      try {
        const org = expectOk(await dev.api.post('/v3/organizations', { name: 'pf-own' }), 201).body
        const roles = expectOk(await admin.get(`/v3/roles?organization_guids=${org.guid}&user_guids=${dev.guid}`)).body.resources
        assert.deepEqual(roles.map((r: { type: string }) => r.type).sort(), ['organization_manager', 'organization_user'])
        assert.equal((await dev.api.post('/v3/organizations', { name: 'pf-suspended', suspended: true })).status, 403)
      } finally {
        await setFlag('user_org_creation', false)
      }
    })

    it('env_var_visibility, space_developer_env_var_visibility and who sees VCAP_SERVICES', async () => {
      const ups = expectOk(
        await dev.api.post('/v3/service_instances', { type: 'user-provided', name: 'pf-ups', credentials: { pw: 'x1' }, relationships: { space: { data: { guid: spaceGuid } } } }),
        201,
      ).body
      expectOk(await dev.api.post('/v3/service_credential_bindings', { type: 'app', name: 'pf-bind', relationships: { app: { data: { guid: appGuid } }, service_instance: { data: { guid: ups.guid } } } }), 201)
      const env = expectOk(await dev.api.get(`/v3/apps/${appGuid}/env`)).body
      const [entry] = env.system_env_json.VCAP_SERVICES['user-provided']
      assert.deepEqual(Object.keys(entry), ['name', 'instance_guid', 'instance_name', 'binding_guid', 'binding_name', 'credentials', 'syslog_drain_url', 'volume_mounts', 'label', 'tags'])
      assert.equal(entry.name, 'pf-bind')
      assert.deepEqual(entry.credentials, { pw: 'x1' })
      const forSupporter = expectOk(await supporter.api.get(`/v3/apps/${appGuid}/env`)).body
      assert.deepEqual(forSupporter.system_env_json, { redacted_message: '[PRIVATE DATA HIDDEN]' })
      assert.equal((await auditor.api.get(`/v3/apps/${appGuid}/env`)).status, 403)
      await setFlag('space_developer_env_var_visibility', false)
      assert.equal((await dev.api.get(`/v3/apps/${appGuid}/environment_variables`)).body.errors[0].title, 'CF-FeatureDisabled')
      expectOk(await admin.get(`/v3/apps/${appGuid}/env`))
      await setFlag('space_developer_env_var_visibility', true)
      await setFlag('env_var_visibility', false)
      assert.equal((await admin.get(`/v3/apps/${appGuid}/env`)).body.errors[0].detail, 'Feature Disabled: env_var_visibility')
      await setFlag('env_var_visibility', true)
      const task = expectOk(await dev.api.post(`/v3/apps/${appGuid}/tasks`, { command: 'echo "vcap=$VCAP_SERVICES" > /dev/null' }), 202).body
      assert.equal((await waitForTask(dev.api, task.guid)).state, 'SUCCEEDED')
      const all = JSON.stringify(expectOk(await admin.get('/v3/audit_events?per_page=5000')).body)
      assert.ok(!all.includes('x1"'), 'a credential value reached an audit event')
    })

    it('set_roles_by_username and hide_marketplace_from_unauthenticated_users', async () => {
      const u = await createUser(admin, 'pf-byname')
      const manager = await createUser(admin, 'pf-manager')
      await grant(admin, 'organization_manager', manager.guid, { org: orgGuid })
      await setFlag('set_roles_by_username', false)
      try {
        const byName = { type: 'organization_auditor', relationships: { user: { data: { username: 'pf-byname' } }, organization: { data: { guid: orgGuid } } } }
        const refused = await manager.api.post('/v3/roles', byName)
        assert.equal(refused.body.errors[0].detail, 'Feature Disabled: set_roles_by_username')
        expectOk(await manager.api.post('/v3/roles', { ...byName, relationships: { ...byName.relationships, user: { data: { guid: u.guid } } } }), 201)
      } finally {
        await setFlag('set_roles_by_username', true)
      }
      const open = expectOk(await anon.get('/v3/service_plans?available=true&include=service_offering'))
      assert.deepEqual(open.body.resources, [])
      assert.deepEqual(open.body.included, { service_offerings: [] })
      assert.equal((await anon.as('not-a-token').get('/v3/service_offerings')).status, 401)
      await setFlag('hide_marketplace_from_unauthenticated_users', true)
      assert.equal((await anon.get('/v3/service_offerings')).status, 401)
      expectOk(await dev.api.get('/v3/service_offerings'))
      await setFlag('hide_marketplace_from_unauthenticated_users', false)
    })

    it('the fixed stack, buildpack and domain; nothing else; writes refused as CC', async () => {
      const stacks = expectOk(await dev.api.get('/v3/stacks?names=cflinuxfs4')).body.resources
      assert.equal(stacks.length, 1)
      expectOk(await dev.api.get(`/v3/stacks/${stacks[0].guid}`))
      assert.equal(expectOk(await dev.api.get('/v3/stacks?names=other')).body.resources.length, 0)
      assert.equal(expectOk(await dev.api.get('/v3/buildpacks')).body.resources[0].name, 'binary_buildpack')
      const domains = expectOk(await dev.api.get(`/v3/organizations/${orgGuid}/domains`)).body.resources
      assert.equal(domains[0].name, 'apps.cf-ledger.local')
      assert.equal(expectOk(await dev.api.get(`/v3/organizations/${orgGuid}/domains/default`)).body.guid, domains[0].guid)
      for (const path of ['/v3/isolation_segments', '/v3/security_groups', '/v3/service_brokers', `/v3/spaces/${spaceGuid}/running_security_groups`]) {
        assert.equal(expectOk(await dev.api.get(path)).body.pagination.total_results, 0, path)
      }
      assert.equal((await dev.api.get('/v3/security_groups?bogus=1')).status, 400)
      assert.equal((await dev.api.post('/v3/security_groups', { name: 'x' })).status, 403)
      assert.equal((await admin.post('/v3/isolation_segments', { name: 'x' })).status, 422)
      assert.deepEqual(expectOk(await dev.api.get(`/v3/spaces/${spaceGuid}/relationships/isolation_segment`)).body.data, null)
      const assign = await admin.patch(`/v3/organizations/${orgGuid}/relationships/default_isolation_segment`, { data: { guid: 'iso' } })
      assert.equal(assign.body.errors[0].detail, "Unable to assign isolation segment with guid 'iso'. Ensure it has been entitled to the organization.")
      assert.equal((await dev.api.get('/v3/environment_variable_groups/other')).status, 404)
      assert.equal((await dev.api.patch('/v3/environment_variable_groups/running', { var: { A: 'b' } })).status, 403)
      const group = expectOk(await admin.patch('/v3/environment_variable_groups/staging', { var: { S: 'secret-ish' } })).body
      assert.deepEqual(group.var, { S: 'secret-ish' })
      const ev = expectOk(await admin.get('/v3/audit_events?types=audit.environment_variable_group.update')).body.resources[0]
      assert.deepEqual(ev.data, { request: { var: '[PRIVATE DATA HIDDEN]' }, keys: ['S'] })
    })

    it('client-library reads: include, process list query, detected commands, permissions, manifest, users, usage', async () => {
      const info = expectOk(await anon.get('/v3/info')).body
      assert.deepEqual(info.rate_limits, { enabled: false, general_limit: 2000, reset_interval_in_minutes: 60 })
      const apps = expectOk(await dev.api.get(`/v3/apps?names=pf-app&include=space.organization`)).body
      assert.deepEqual(apps.included.spaces.map((s: { guid: string }) => s.guid), [spaceGuid])
      assert.deepEqual(apps.included.organizations.map((o: { guid: string }) => o.guid), [orgGuid])
      assert.deepEqual(Object.keys(expectOk(await dev.api.get(`/v3/apps/${appGuid}?include=space`)).body.included), ['spaces'])
      const procs = expectOk(await dev.api.get(`/v3/apps/${appGuid}/processes?types=task&per_page=1`)).body
      assert.equal(procs.resources.length, 1)
      assert.equal(procs.resources[0].command, './run.sh task')
      assert.equal((await dev.api.get(`/v3/apps/${appGuid}/processes?app_guids=x`)).status, 400)
      assert.equal(expectOk(await auditor.api.get(`/v3/apps/${appGuid}/processes/web`)).body.command, '[PRIVATE DATA HIDDEN]')
      assert.deepEqual(expectOk(await auditor.api.get(`/v3/apps/${appGuid}/permissions`)).body, { read_basic_data: true, read_sensitive_data: false })
      const manifest = await dev.api.get(`/v3/apps/${appGuid}/manifest`)
      assert.equal(manifest.status, 200)
      assert.match(String(manifest.body), /^---\napplications:\n {2}- name: pf-app\n/)
      assert.equal((await auditor.api.get(`/v3/apps/${appGuid}/manifest`)).status, 403)
      const orgUsers = expectOk(await auditor.api.get(`/v3/organizations/${orgGuid}/users?per_page=2`)).body
      assert.ok(orgUsers.pagination.total_results >= 3)
      const spaceUsers = expectOk(await dev.api.get(`/v3/spaces/${spaceGuid}/users`)).body.resources.map((u: { username: string }) => u.username)
      assert.deepEqual(spaceUsers.sort(), ['pf-auditor', 'pf-dev', 'pf-supporter'])
      const usage = expectOk(await dev.api.get(`/v3/organizations/${orgGuid}/usage_summary`)).body.usage_summary
      assert.equal(usage.started_instances, 0)
      assert.equal(usage.service_instances, 1)
      // metadata labels/annotations as null are accepted (go-cfclient sends them) and change nothing
      const patched = expectOk(await dev.api.patch(`/v3/apps/${appGuid}`, { metadata: { labels: null, annotations: null } })).body
      assert.deepEqual(patched.metadata, { labels: {}, annotations: {} })
      expectOk(await admin.patch(`/v3/organizations/${orgGuid}`, { metadata: null }))
    })

    it('docs/api-version.md lists every route the server has', async () => {
      const doc = fs.readFileSync(path.join(import.meta.dirname, '..', 'docs', 'api-version.md'), 'utf8')
      const spec = expectOk(await anon.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> }
      const missing = Object.entries(spec.paths).flatMap(([p, ops]) =>
        Object.keys(ops)
          .map((m) => `| ${m.toUpperCase()} | \`${p.replace(/\{(\w+)\}/g, ':$1')}\` |`)
          .filter((row) => !doc.includes(row)),
      )
      assert.deepEqual(missing, [], 'add these rows to "Every endpoint" in docs/api-version.md')
    })

    it('app usage events: TASK_STARTED and TASK_STOPPED for every task that ran, for global readers', async () => {
      const task = expectOk(await dev.api.post(`/v3/apps/${appGuid}/tasks`, { command: 'true', name: 'usage' }), 202).body
      await waitForTask(dev.api, task.guid)
      const page = expectOk(await admin.get('/v3/app_usage_events?per_page=5000')).body.resources
      const mine = page.filter((e: { task: { guid: string } }) => e.task.guid === task.guid)
      assert.deepEqual(
        mine.map((e: { state: { current: string; previous: string } }) => [e.state.current, e.state.previous]),
        [
          ['TASK_STARTED', 'PENDING'],
          ['TASK_STOPPED', 'RUNNING'],
        ],
      )
      assert.deepEqual(mine[0].app, { guid: appGuid, name: 'pf-app' })
      assert.deepEqual(mine[0].process, { guid: null, type: null })
      const after = expectOk(await admin.get(`/v3/app_usage_events?after_guid=${mine[0].guid}`)).body.resources
      assert.equal(after[0].guid, mine[1].guid)
      expectOk(await admin.get(`/v3/app_usage_events/${mine[0].guid}`))
      assert.equal((await dev.api.get('/v3/app_usage_events')).status, 403)
    })
  })
}

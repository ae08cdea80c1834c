import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant, type Reply } from './support/client.ts'
import { ledgerProblems, readEvents, withStore } from './support/db.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

function cfError(r: Reply, status: number, title: string, code: number, detail: string) {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual(r.body, { errors: [{ code, title: `CF-${title}`, detail }] })
}
const unprocessable = (r: Reply, detail: string) => cfError(r, 422, 'UnprocessableEntity', 10008, detail)
const forbidden = (r: Reply) => cfError(r, 403, 'NotAuthorized', 10003, 'You are not authorized to perform the requested action')
const notFound = (r: Reply, what: string) => cfError(r, 404, 'ResourceNotFound', 10010, `${what} not found`)

const guids = (r: Reply) => (r.body.resources as { guid: string }[]).map((x) => x.guid)
const relGuids = (data: { guid: string }[]) => data.map((d) => d.guid).sort()

/** True when the server has no such route at all (CF-NotFound 10000), as opposed to a missing resource. */
async function routeMissing(api: Api, method: string, path: string): Promise<boolean> {
  const r = await api.request(method, path, {})
  return r.status === 404 && r.body?.errors?.[0]?.code === 10000
}

const UNLIMITED_APPS = { total_memory_in_mb: null, per_process_memory_in_mb: null, total_instances: null, per_app_tasks: null, log_rate_limit_in_bytes_per_second: null }
const UNLIMITED_SERVICES = { paid_services_allowed: true, total_service_instances: null, total_service_keys: null }
const UNLIMITED_ROUTES = { total_routes: null, total_reserved_ports: null }

for (const store of stores()) {
  describe(`organization and space quotas [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let adminGuid: string
    let orgA: string
    let orgB: string
    let spaceA1: string
    let spaceA2: string
    let spaceB1: string
    let manager: Api // organization_manager of A
    let dev: Api // space_developer in A1
    let orgAuditor: Api // organization_auditor of A
    let outsider: Api
    let globalAuditor: Api
    let managerGuid: string
    /** Quota audit events the requests below must have written, in order. */
    const expected: { type: string; actee: string; name: string; org: string; space: string; metadata?: Record<string, unknown>; actor?: string }[] = []

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      adminGuid = JSON.parse(Buffer.from(admin.token!.split('.')[1]!, 'base64url').toString()).user_id
      ;({ orgGuid: orgA, spaceGuid: spaceA1 } = await createOrgAndSpace(admin, 'org-a', 'a1'))
      spaceA2 = expectOk(await admin.post('/v3/spaces', { name: 'a2', relationships: { organization: { data: { guid: orgA } } } }), 201).body.guid
      ;({ orgGuid: orgB, spaceGuid: spaceB1 } = await createOrgAndSpace(admin, 'org-b', 'b1'))
      const m = await createUser(admin, 'manager')
      managerGuid = m.guid
      await grant(admin, 'organization_manager', m.guid, { org: orgA })
      const d = await createUser(admin, 'dev')
      await grant(admin, 'organization_user', d.guid, { org: orgA })
      await grant(admin, 'space_developer', d.guid, { space: spaceA1 })
      const a = await createUser(admin, 'org-auditor')
      await grant(admin, 'organization_auditor', a.guid, { org: orgA })
      const o = await createUser(admin, 'outsider')
      const g = await createUser(admin, 'global-auditor')
      expectOk(await admin.post('/Groups/cloud_controller.global_auditor/members', { value: g.guid }), 201)
      manager = m.api
      dev = d.api
      orgAuditor = a.api
      outsider = o.api
      globalAuditor = await admin.login('global-auditor', 'pw-global-auditor')
    })
    after(() => server.stop())

    const create = (api: Api, name: string, org: string, extra: Record<string, unknown> = {}) =>
      api.post('/v3/space_quotas', { name, relationships: { organization: { data: { guid: org } } }, ...extra })

    describe('organization quotas', () => {
      let small: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
      let big: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

      it('creates a quota with CC defaults: everything unlimited, paid services allowed', async () => {
        const r = expectOk(await admin.post('/v3/organization_quotas', { name: 'small' }), 201)
        small = r.body
        assert.match(small.guid, /^[0-9a-f-]{36}$/)
        assert.match(small.created_at, TIMESTAMP)
        assert.equal(small.updated_at, small.created_at)
        assert.deepEqual(
          { ...small, guid: undefined, created_at: undefined, updated_at: undefined },
          {
            guid: undefined,
            created_at: undefined,
            updated_at: undefined,
            name: 'small',
            apps: UNLIMITED_APPS,
            services: UNLIMITED_SERVICES,
            routes: UNLIMITED_ROUTES,
            domains: { total_domains: null },
            relationships: { organizations: { data: [] } },
            links: { self: { href: `${server.url}/v3/organization_quotas/${small.guid}` } },
          },
        )
        expected.push({ type: 'audit.organization_quota.create', actee: small.guid, name: 'small', org: '', space: '', metadata: { request: { name: 'small' } } })
        assert.deepEqual(expectOk(await admin.get(`/v3/organization_quotas/${small.guid}`)).body, small)
      })

      it('creates a quota with every limit, applied to an org, and keeps the values', async () => {
        const body = {
          name: 'big',
          apps: { total_memory_in_mb: 5120, per_process_memory_in_mb: 1024, total_instances: 10, per_app_tasks: 5, log_rate_limit_in_bytes_per_second: 2048 },
          services: { paid_services_allowed: false, total_service_instances: 10, total_service_keys: 20 },
          routes: { total_routes: 8, total_reserved_ports: 4 },
          domains: { total_domains: 7 },
          relationships: { organizations: { data: [{ guid: orgB }] } },
        }
        big = expectOk(await admin.post('/v3/organization_quotas', body), 201).body
        assert.deepEqual(big.apps, body.apps)
        assert.deepEqual(big.services, body.services)
        assert.deepEqual(big.routes, body.routes)
        assert.deepEqual(big.domains, body.domains)
        assert.deepEqual(big.relationships, { organizations: { data: [{ guid: orgB }] } })
        expected.push({ type: 'audit.organization_quota.create', actee: big.guid, name: 'big', org: '', space: '', metadata: { request: body } })
        expected.push({ type: 'audit.organization_quota.apply', actee: big.guid, name: 'big', org: orgB, space: '', metadata: { organization_guid: orgB, organization_name: 'org-b' } })
        const org = expectOk(await admin.get(`/v3/organizations/${orgB}`)).body
        assert.deepEqual(org.relationships.quota, { data: { guid: big.guid } })
        assert.equal(org.links.quota.href, `${server.url}/v3/organization_quotas/${big.guid}`)
      })

      it("refuses invalid bodies with CC's messages, in CC's order", async () => {
        unprocessable(await admin.post('/v3/organization_quotas', { name: 'small' }), "Organization Quota 'small' already exists.")
        unprocessable(await admin.post('/v3/organization_quotas', {}), "Name can't be blank")
        unprocessable(await admin.post('/v3/organization_quotas', { name: 555 }), 'Name must be a string')
        unprocessable(await admin.post('/v3/organization_quotas', { name: 'x'.repeat(251) }), 'Name is too long (maximum is 250 characters)')
        unprocessable(
          await admin.post('/v3/organization_quotas', {
            wat: 1,
            name: 'bad',
            apps: { total_memory_in_mb: -1, per_app_tasks: 1.5, bogus: 1, total_instances: 'many' },
            services: 'x',
            routes: { total_routes: 2147483648 },
            domains: { total_domains: true },
          }),
          "Unknown field(s): 'wat', Apps Unknown field(s): 'bogus', Apps Total memory in mb must be greater than or equal to 0, " +
            'Apps Total instances is not a number, Apps Per app tasks must be an integer, Services must be an object, ' +
            'Routes Total routes must be less than or equal to 2147483647, Domains Total domains is not a number',
        )
        unprocessable(
          await admin.post('/v3/organization_quotas', { name: 'bad', services: { paid_services_allowed: 'yes' } }),
          'Services Paid services allowed must be a boolean',
        )
        unprocessable(
          await admin.post('/v3/organization_quotas', { name: 'bad', routes: { total_routes: 2, total_reserved_ports: 3 } }),
          'Total reserved ports must be -1, 0, or a positive integer, and must be less than or equal to total routes.',
        )
        unprocessable(
          await admin.post('/v3/organization_quotas', { name: 'bad', relationships: { organizations: { data: [{ guid: 'nope' }, { guid: 'nada' }] } } }),
          'Organizations with guids ["nope", "nada"] do not exist, or you do not have access to them.',
        )
        cfError(await admin.post('/v3/organization_quotas', [1]), 400, 'MessageParseError', 1001, 'Request invalid due to parse error: invalid request body')
        // Nothing of the refused requests was kept.
        assert.deepEqual(guids(expectOk(await admin.get('/v3/organization_quotas?names=bad'))), [])
      })

      it('lets only admins write, and checks that before anything else', async () => {
        for (const api of [manager, dev, orgAuditor, outsider, globalAuditor]) {
          const r = await api.post('/v3/organization_quotas', { name: 'mine' })
          // A global auditor's token has no write scope.
          forbidden(r)
          forbidden(await api.patch(`/v3/organization_quotas/${small.guid}`, { wat: true }))
          forbidden(await api.patch('/v3/organization_quotas/nope', {}))
          forbidden(await api.delete(`/v3/organization_quotas/${small.guid}`))
          forbidden(await api.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, { data: [{ guid: orgA }] }))
        }
      })

      it('lists every quota to every reader but shows only the orgs the reader can see', async () => {
        expectOk(await admin.post(`/v3/organization_quotas/${big.guid}/relationships/organizations`, { data: [{ guid: orgA }] }))
        expected.push({ type: 'audit.organization_quota.apply', actee: big.guid, name: 'big', org: orgA, space: '', metadata: { organization_guid: orgA, organization_name: 'org-a' } })
        const seen = async (api: Api) => {
          const r = expectOk(await api.get('/v3/organization_quotas'))
          assert.deepEqual(guids(r), [small.guid, big.guid])
          return relGuids(r.body.resources[1].relationships.organizations.data)
        }
        assert.deepEqual(await seen(admin), [orgA, orgB].sort())
        assert.deepEqual(await seen(globalAuditor), [orgA, orgB].sort())
        assert.deepEqual(await seen(manager), [orgA])
        assert.deepEqual(await seen(dev), [orgA])
        assert.deepEqual(await seen(outsider), [])
        assert.deepEqual(expectOk(await outsider.get(`/v3/organization_quotas/${big.guid}`)).body.relationships.organizations.data, [])
      })

      it('filters by names, guids and organization_guids (only readable orgs count) and pages', async () => {
        assert.deepEqual(guids(expectOk(await admin.get('/v3/organization_quotas?names=big,nope'))), [big.guid])
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/organization_quotas?guids=${small.guid}`))), [small.guid])
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/organization_quotas?guids=${small.guid},${big.guid}&names=big`))), [big.guid])
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/organization_quotas?organization_guids=${orgA},${orgB}`))), [big.guid])
        assert.deepEqual(guids(expectOk(await manager.get(`/v3/organization_quotas?organization_guids=${orgB}`))), [])
        assert.deepEqual(guids(expectOk(await manager.get(`/v3/organization_quotas?organization_guids=${orgA}`))), [big.guid])
        const page = expectOk(await admin.get('/v3/organization_quotas?per_page=1&order_by=-created_at'))
        assert.deepEqual(guids(page), [big.guid])
        assert.equal(page.body.pagination.total_results, 2)
        assert.equal(page.body.pagination.next.href, `${server.url}/v3/organization_quotas?order_by=-created_at&page=2&per_page=1`)
        const bad = await admin.get('/v3/organization_quotas?space_guids=x')
        assert.equal(bad.status, 400)
        assert.equal(bad.body.errors[0].title, 'CF-BadQueryParameter')
        notFound(await admin.get('/v3/organization_quotas/nope'), 'Organization quota')
      })

      it('updates only the requested limits; null makes a limit unlimited again', async () => {
        const r = expectOk(await admin.patch(`/v3/organization_quotas/${big.guid}`, { apps: { per_app_tasks: 9, total_memory_in_mb: null }, services: { paid_services_allowed: null } }))
        assert.deepEqual(r.body.apps, { ...big.apps, per_app_tasks: 9, total_memory_in_mb: null })
        assert.deepEqual(r.body.services, { ...big.services, paid_services_allowed: true })
        assert.deepEqual(r.body.routes, big.routes)
        assert.equal(r.body.name, 'big')
        expected.push({
          type: 'audit.organization_quota.update',
          actee: big.guid,
          name: 'big',
          org: '',
          space: '',
          metadata: { request: { apps: { per_app_tasks: 9, total_memory_in_mb: null }, services: { paid_services_allowed: null } } },
        })
        const empty = expectOk(await admin.patch(`/v3/organization_quotas/${big.guid}`, {}))
        assert.deepEqual({ ...empty.body, updated_at: null }, { ...r.body, updated_at: null })
        expected.push({ type: 'audit.organization_quota.update', actee: big.guid, name: 'big', org: '', space: '', metadata: { request: {} } })
        const renamed = expectOk(await admin.patch(`/v3/organization_quotas/${big.guid}`, { name: 'bigger' }))
        assert.equal(renamed.body.name, 'bigger')
        expected.push({ type: 'audit.organization_quota.update', actee: big.guid, name: 'bigger', org: '', space: '', metadata: { request: { name: 'bigger' } } })
        unprocessable(await admin.patch(`/v3/organization_quotas/${big.guid}`, { name: 'small' }), "Organization Quota 'small' already exists.")
        unprocessable(await admin.patch(`/v3/organization_quotas/${big.guid}`, { name: '' }), 'Name is too short (minimum is 1 character)')
        unprocessable(await admin.patch(`/v3/organization_quotas/${big.guid}`, { apps: [] }), 'Apps must be an object')
        // CC validates the body before looking the quota up.
        unprocessable(await admin.patch('/v3/organization_quotas/nope', { wat: 1 }), "Unknown field(s): 'wat'")
        notFound(await admin.patch('/v3/organization_quotas/nope', {}), 'Organization quota')
      })

      it('applies a quota to orgs, replacing their previous quota', async () => {
        const r = expectOk(await admin.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, { data: [{ guid: orgA }, { guid: orgB }] }))
        assert.deepEqual(r.body.links, { self: { href: `${server.url}/v3/organization_quotas/${small.guid}/relationships/organizations` } })
        assert.deepEqual(relGuids(r.body.data), [orgA, orgB].sort())
        for (const [org, name] of [[orgA, 'org-a'], [orgB, 'org-b']] as const) {
          expected.push({ type: 'audit.organization_quota.apply', actee: small.guid, name: 'small', org, space: '', metadata: { organization_guid: org, organization_name: name } })
        }
        assert.deepEqual(expectOk(await admin.get(`/v3/organization_quotas/${big.guid}`)).body.relationships.organizations.data, [])
        assert.equal(expectOk(await admin.get(`/v3/organizations/${orgA}`)).body.relationships.quota.data.guid, small.guid)
        unprocessable(
          await admin.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, { data: [{ guid: orgA }, { guid: 'not a real guid' }] }),
          'Organizations with guids ["not a real guid"] do not exist, or you do not have access to them.',
        )
        unprocessable(
          await admin.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, { data: [{ guid: orgA }, { guid: 8 }] }),
          'Invalid data type: Data[1] guid should be a string.',
        )
        unprocessable(await admin.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, { data: [] }), "Data can't be blank")
        unprocessable(await admin.post(`/v3/organization_quotas/${small.guid}/relationships/organizations`, {}), "Data can't be blank, Data must be an array")
        notFound(await admin.post('/v3/organization_quotas/nope/relationships/organizations', { data: [{ guid: orgA }] }), 'Organization quota')
      })

      it('refuses to apply a finite log rate limit to orgs with unlimited-log-rate apps', async () => {
        expectOk(await admin.post('/v3/apps', { name: 'chatty', relationships: { space: { data: { guid: spaceB1 } } } }), 201)
        const limited = expectOk(await admin.post('/v3/organization_quotas', { name: 'log-limited', apps: { log_rate_limit_in_bytes_per_second: 100 } }), 201).body
        expected.push({ type: 'audit.organization_quota.create', actee: limited.guid, name: 'log-limited', org: '', space: '', metadata: { request: { name: 'log-limited', apps: { log_rate_limit_in_bytes_per_second: 100 } } } })
        unprocessable(
          await admin.post(`/v3/organization_quotas/${limited.guid}/relationships/organizations`, { data: [{ guid: orgB }] }),
          'Current usage exceeds new quota values. The org(s) being assigned this quota contain apps running with an unlimited log rate limit.',
        )
        unprocessable(
          await admin.patch(`/v3/organization_quotas/${small.guid}`, { apps: { log_rate_limit_in_bytes_per_second: 100 } }),
          "Current usage exceeds new quota values. This quota is applied to org 'org-b' which contains apps running with an unlimited log rate limit.",
        )
        // Deleted right away (unused), with its event recorded by the job.
        const del = await admin.delete(`/v3/organization_quotas/${limited.guid}`)
        assert.equal(del.status, 202)
        assert.equal((await admin.waitForJob(del.headers.get('location')!)).body.state, 'COMPLETE')
        expected.push({ type: 'audit.organization_quota.delete', actee: limited.guid, name: 'log-limited', org: '', space: '', metadata: {} })
      })

      it('deletes only unused quotas: 422 while applied, else 202 and a job', async () => {
        unprocessable(
          await admin.delete(`/v3/organization_quotas/${small.guid}`),
          'This quota is applied to one or more organizations. Apply different quotas to those organizations before deleting.',
        )
        const r = await admin.delete(`/v3/organization_quotas/${big.guid}`)
        assert.equal(r.status, 202)
        assert.equal(r.body, undefined)
        const location = r.headers.get('location')!
        assert.match(location, new RegExp(`^${server.url}/v3/jobs/[0-9a-f-]{36}$`))
        const job = await admin.waitForJob(location)
        assert.equal(job.body.state, 'COMPLETE')
        assert.equal(job.body.operation, 'organization_quota.delete')
        expected.push({ type: 'audit.organization_quota.delete', actee: big.guid, name: 'bigger', org: '', space: '', metadata: {} })
        notFound(await admin.get(`/v3/organization_quotas/${big.guid}`), 'Organization quota')
        notFound(await admin.delete(`/v3/organization_quotas/${big.guid}`), 'Organization quota')
      })
    })

    describe('space quotas', () => {
      let devQuota: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
      let spareQuota: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
      let otherOrgQuota: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

      it("lets the org's manager create a space quota, in CC's shape", async () => {
        const r = expectOk(await create(manager, 'dev-quota', orgA, { apps: { per_app_tasks: 3 } }), 201)
        devQuota = r.body
        assert.deepEqual(
          { ...devQuota, guid: undefined, created_at: undefined, updated_at: undefined },
          {
            guid: undefined,
            created_at: undefined,
            updated_at: undefined,
            name: 'dev-quota',
            apps: { ...UNLIMITED_APPS, per_app_tasks: 3 },
            services: UNLIMITED_SERVICES,
            routes: UNLIMITED_ROUTES,
            relationships: { organization: { data: { guid: orgA } }, spaces: { data: [] } },
            links: {
              self: { href: `${server.url}/v3/space_quotas/${devQuota.guid}` },
              organization: { href: `${server.url}/v3/organizations/${orgA}` },
            },
          },
        )
        expected.push({
          type: 'audit.space_quota.create',
          actee: devQuota.guid,
          name: 'dev-quota',
          org: orgA,
          space: '',
          actor: managerGuid,
          metadata: { request: { name: 'dev-quota', relationships: { organization: { data: { guid: orgA } } }, apps: { per_app_tasks: 3 } } },
        })
        spareQuota = expectOk(await create(admin, 'spare', orgA, { relationships: { organization: { data: { guid: orgA } }, spaces: { data: [{ guid: spaceA2 }] } } }), 201).body
        assert.deepEqual(spareQuota.relationships.spaces, { data: [{ guid: spaceA2 }] })
        expected.push({
          type: 'audit.space_quota.create',
          actee: spareQuota.guid,
          name: 'spare',
          org: orgA,
          space: '',
          metadata: { request: { name: 'spare', relationships: { organization: { data: { guid: orgA } }, spaces: { data: [{ guid: spaceA2 }] } } } },
        })
        expected.push({ type: 'audit.space_quota.apply', actee: spareQuota.guid, name: 'spare', org: orgA, space: spaceA2, metadata: { space_guid: spaceA2, space_name: 'a2' } })
        // Names are unique per org.
        otherOrgQuota = expectOk(await create(admin, 'dev-quota', orgB), 201).body
        expected.push({
          type: 'audit.space_quota.create',
          actee: otherOrgQuota.guid,
          name: 'dev-quota',
          org: orgB,
          space: '',
          metadata: { request: { name: 'dev-quota', relationships: { organization: { data: { guid: orgB } } } } },
        })
        assert.equal(expectOk(await admin.get(`/v3/spaces/${spaceA2}`)).body.relationships.quota.data.guid, spareQuota.guid)
      })

      it("refuses bad creates with CC's texts and in CC's order", async () => {
        unprocessable(await create(manager, 'dev-quota', orgA), "Space Quota 'dev-quota' already exists.")
        unprocessable(await manager.post('/v3/space_quotas', { name: 'q' }), "Relationships 'relationships' is not a hash")
        unprocessable(
          await manager.post('/v3/space_quotas', { name: 'q', relationships: {} }),
          'Relationships Organization must be structured like this: "organization: {"data": {"guid": "valid-guid"}}"',
        )
        unprocessable(await create(manager, 'q', orgA, { domains: { total_domains: 1 } }), "Unknown field(s): 'domains'")
        unprocessable(await create(manager, '', orgA), "Name can't be blank, Name is too short (minimum is 1 character)")
        unprocessable(await create(manager, 'q', 'not-real'), "Organization with guid 'not-real' does not exist, or you do not have access to it.")
        unprocessable(
          await create(admin, 'q', orgA, { relationships: { organization: { data: { guid: orgA } }, spaces: { data: [{ guid: spaceB1 }] } } }),
          `Spaces with guids ["${spaceB1}"] do not exist within the organization specified, or you do not have access to them.`,
        )
        // Valid body, existing org, but not the caller's to manage.
        forbidden(await create(manager, 'q', orgB))
        for (const api of [dev, orgAuditor, outsider]) forbidden(await create(api, 'q', orgA))
      })

      it('shows space quotas to global readers, org managers and roles in spaces using them', async () => {
        expectOk(await manager.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceA1 }] }))
        expected.push({ type: 'audit.space_quota.apply', actee: devQuota.guid, name: 'dev-quota', org: orgA, space: spaceA1, actor: managerGuid, metadata: { space_guid: spaceA1, space_name: 'a1' } })
        const list = async (api: Api) => guids(expectOk(await api.get('/v3/space_quotas'))).sort()
        assert.deepEqual(await list(admin), [devQuota.guid, spareQuota.guid, otherOrgQuota.guid].sort())
        assert.deepEqual(await list(globalAuditor), [devQuota.guid, spareQuota.guid, otherOrgQuota.guid].sort())
        assert.deepEqual(await list(manager), [devQuota.guid, spareQuota.guid].sort())
        assert.deepEqual(await list(dev), [devQuota.guid])
        assert.deepEqual(await list(orgAuditor), [])
        assert.deepEqual(await list(outsider), [])
        expectOk(await dev.get(`/v3/space_quotas/${devQuota.guid}`))
        notFound(await dev.get(`/v3/space_quotas/${spareQuota.guid}`), 'Space quota')
        notFound(await orgAuditor.get(`/v3/space_quotas/${devQuota.guid}`), 'Space quota')
        notFound(await outsider.get(`/v3/space_quotas/${devQuota.guid}`), 'Space quota')
        notFound(await admin.get('/v3/space_quotas/nope'), 'Space quota')
        // Spaces the reader cannot see are left out of relationships.spaces.
        expectOk(await manager.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceA2 }] }))
        expected.push({ type: 'audit.space_quota.apply', actee: devQuota.guid, name: 'dev-quota', org: orgA, space: spaceA2, actor: managerGuid, metadata: { space_guid: spaceA2, space_name: 'a2' } })
        assert.deepEqual(expectOk(await dev.get(`/v3/space_quotas/${devQuota.guid}`)).body.relationships.spaces.data, [{ guid: spaceA1 }])
        assert.deepEqual(relGuids(expectOk(await manager.get(`/v3/space_quotas/${devQuota.guid}`)).body.relationships.spaces.data), [spaceA1, spaceA2].sort())
      })

      it('filters by names, guids, organization_guids and space_guids', async () => {
        assert.deepEqual(guids(expectOk(await admin.get('/v3/space_quotas?names=dev-quota'))).sort(), [devQuota.guid, otherOrgQuota.guid].sort())
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/space_quotas?names=dev-quota&organization_guids=${orgB}`))), [otherOrgQuota.guid])
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/space_quotas?guids=${spareQuota.guid}`))), [spareQuota.guid])
        assert.deepEqual(guids(expectOk(await admin.get(`/v3/space_quotas?space_guids=${spaceA1},${spaceB1}`))), [devQuota.guid])
        assert.deepEqual(guids(expectOk(await dev.get(`/v3/space_quotas?organization_guids=${orgB}`))), [])
      })

      it('lets admins and the org manager update; others get 403 or 404 as CC answers', async () => {
        const r = expectOk(await manager.patch(`/v3/space_quotas/${devQuota.guid}`, { apps: { total_memory_in_mb: 2048 }, routes: { total_routes: 5 } }))
        assert.deepEqual(r.body.apps, { ...devQuota.apps, total_memory_in_mb: 2048 })
        assert.deepEqual(r.body.routes, { total_routes: 5, total_reserved_ports: null })
        expected.push({
          type: 'audit.space_quota.update',
          actee: devQuota.guid,
          name: 'dev-quota',
          org: orgA,
          space: '',
          actor: managerGuid,
          metadata: { request: { apps: { total_memory_in_mb: 2048 }, routes: { total_routes: 5 } } },
        })
        unprocessable(await manager.patch(`/v3/space_quotas/${devQuota.guid}`, { name: 'spare' }), "Space Quota 'spare' already exists.")
        unprocessable(await manager.patch(`/v3/space_quotas/${devQuota.guid}`, { wat: 'idk' }), "Unknown field(s): 'wat'")
        unprocessable(await manager.patch(`/v3/space_quotas/${devQuota.guid}`, { domains: {} }), "Unknown field(s): 'domains'")
        // A space developer can see the quota but not change it; the others cannot see it.
        forbidden(await dev.patch(`/v3/space_quotas/${devQuota.guid}`, { wat: 'idk' }))
        notFound(await orgAuditor.patch(`/v3/space_quotas/${devQuota.guid}`, {}), 'Space quota')
        notFound(await outsider.patch(`/v3/space_quotas/${devQuota.guid}`, {}), 'Space quota')
        notFound(await manager.patch(`/v3/space_quotas/${otherOrgQuota.guid}`, {}), 'Space quota')
        forbidden(await globalAuditor.patch(`/v3/space_quotas/${devQuota.guid}`, {}))
      })

      it('applies only to readable spaces of the owning org', async () => {
        unprocessable(
          await manager.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: 'not a real guid' }, { guid: spaceB1 }] }),
          `Spaces with guids ["not a real guid", "${spaceB1}"] do not exist, or you do not have access to them.`,
        )
        unprocessable(
          await admin.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceB1 }] }),
          'Space quotas cannot be applied outside of their owning organization.',
        )
        unprocessable(
          await manager.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceA1 }, { guid: 6 }] }),
          'Invalid data type: Data[1] guid should be a string.',
        )
        forbidden(await dev.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceA1 }] }))
        notFound(await outsider.post(`/v3/space_quotas/${devQuota.guid}/relationships/spaces`, { data: [{ guid: spaceA1 }] }), 'Space quota')
      })

      it('removes a quota from a space (204) and says when it is not applied there', async () => {
        const r = await manager.delete(`/v3/space_quotas/${devQuota.guid}/relationships/spaces/${spaceA2}`)
        assert.equal(r.status, 204, JSON.stringify(r.body))
        expected.push({ type: 'audit.space_quota.remove', actee: devQuota.guid, name: 'dev-quota', org: orgA, space: spaceA2, actor: managerGuid, metadata: { space_guid: spaceA2, space_name: 'a2' } })
        assert.deepEqual(expectOk(await admin.get(`/v3/spaces/${spaceA2}`)).body.relationships.quota, { data: null })
        for (const space of [spaceA2, 'does-not-exist']) {
          unprocessable(
            await manager.delete(`/v3/space_quotas/${devQuota.guid}/relationships/spaces/${space}`),
            `Unable to remove quota from space with guid '${space}'. Ensure the space quota is applied to this space.`,
          )
        }
        forbidden(await dev.delete(`/v3/space_quotas/${devQuota.guid}/relationships/spaces/${spaceA1}`))
      })

      it('deletes only unused space quotas, through a job', async () => {
        unprocessable(await manager.delete(`/v3/space_quotas/${devQuota.guid}`), 'This quota is applied to one or more spaces. Remove this quota from all spaces before deleting.')
        forbidden(await dev.delete(`/v3/space_quotas/${devQuota.guid}`))
        notFound(await outsider.delete(`/v3/space_quotas/${devQuota.guid}`), 'Space quota')
        // Applying dev-quota to a2 took it from spare (CC's add_space): spare is unused now.
        assert.deepEqual(expectOk(await admin.get(`/v3/space_quotas/${spareQuota.guid}`)).body.relationships.spaces.data, [])
        const r = await manager.delete(`/v3/space_quotas/${spareQuota.guid}`)
        assert.equal(r.status, 202)
        const job = await manager.waitForJob(r.headers.get('location')!)
        assert.equal(job.body.state, 'COMPLETE')
        assert.equal(job.body.operation, 'space_quota.delete')
        expected.push({ type: 'audit.space_quota.delete', actee: spareQuota.guid, name: 'spare', org: orgA, space: '', actor: managerGuid, metadata: {} })
        notFound(await admin.get(`/v3/space_quotas/${spareQuota.guid}`), 'Space quota')
      })

      it('lets only admins change space quotas of a suspended org', async () => {
        expectOk(await admin.patch(`/v3/organizations/${orgA}`, { suspended: true }))
        try {
          cfError(await manager.patch(`/v3/space_quotas/${devQuota.guid}`, {}), 403, 'OrgSuspended', 10017, 'The organization is suspended')
          cfError(await create(manager, 'late', orgA), 403, 'OrgSuspended', 10017, 'The organization is suspended')
          expectOk(await admin.patch(`/v3/space_quotas/${devQuota.guid}`, {}))
          expected.push({ type: 'audit.space_quota.update', actee: devQuota.guid, name: 'dev-quota', org: orgA, space: '', metadata: { request: {} } })
        } finally {
          expectOk(await admin.patch(`/v3/organizations/${orgA}`, { suspended: false }))
        }
      })
    })

    describe('task quotas', () => {
      it("refuses tasks over the quotas with CC's texts", async (t) => {
        if ((await routeMissing(admin, 'POST', '/v3/packages')) || (await routeMissing(admin, 'POST', '/v3/apps/x/tasks'))) {
          t.skip('the packages or task endpoints are not wired into the server yet')
          return
        }
        const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'task-org', 'task-space')
        const appGuid = await pushApp(admin, spaceGuid, 'worker')
        const orgQuota = expectOk(await admin.post('/v3/organization_quotas', { name: 'task-org-quota', relationships: { organizations: { data: [{ guid: orgGuid }] } } }), 201).body
        const spaceQuota = expectOk(await create(admin, 'task-space-quota', orgGuid, { relationships: { organization: { data: { guid: orgGuid } }, spaces: { data: [{ guid: spaceGuid }] } } }), 201).body
        const task = (memory: number) => admin.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 30', memory_in_mb: memory })
        const limit = async (path: string, apps: Record<string, number | null>) => expectOk(await admin.patch(path, { apps }))
        const spaceQ = `/v3/space_quotas/${spaceQuota.guid}`
        const orgQ = `/v3/organization_quotas/${orgQuota.guid}`

        await limit(spaceQ, { per_process_memory_in_mb: 256 })
        unprocessable(await task(512), 'memory_in_mb exceeds space instance memory quota')
        await limit(spaceQ, { per_process_memory_in_mb: null, total_memory_in_mb: 300 })
        unprocessable(await task(512), 'memory_in_mb exceeds space memory quota')
        await limit(spaceQ, { total_memory_in_mb: null })
        await limit(orgQ, { per_process_memory_in_mb: 256 })
        unprocessable(await task(512), 'memory_in_mb exceeds organization instance memory quota')
        await limit(orgQ, { per_process_memory_in_mb: null, total_memory_in_mb: 300 })
        unprocessable(await task(512), 'memory_in_mb exceeds organization memory quota')
        await limit(orgQ, { total_memory_in_mb: null })

        await limit(spaceQ, { per_app_tasks: 1 })
        const first = expectOk(await task(64), 202).body
        try {
          unprocessable(await task(64), 'app_task_limit quota exceeded')
          // Memory counts the running task too: 64 + 64 > 100.
          await limit(spaceQ, { per_app_tasks: null, total_memory_in_mb: 100 })
          unprocessable(await task(64), 'memory_in_mb exceeds space memory quota')
        } finally {
          await admin.post(`/v3/tasks/${first.guid}/actions/cancel`)
          await waitForTask(admin, first.guid)
        }
      })
    })

    it('recorded one audit event per change, in the hash chain, as CC writes them', async () => {
      // Read a quiet ledger: nothing may append between reading the events and the head.
      await server.stop()
      const { events, problems } = await withStore(server, async (q) => {
        const events = await readEvents(q)
        return { events, problems: await ledgerProblems(q, events) }
      })
      assert.deepEqual(problems, [])
      const quotaEvents = events.filter((e) => /^audit\.(organization|space)_quota\./.test(e.type) && expected.some((x) => x.actee === e.actee))
      assert.deepEqual(
        quotaEvents.map((e) => ({
          type: e.type,
          actee: e.actee,
          name: e.actee_name,
          org: e.organization_guid,
          space: e.space_guid,
          metadata: e.metadata,
          actor: e.actor,
          actee_type: e.actee_type,
          actor_type: e.actor_type,
        })),
        expected.map((x) => ({
          type: x.type,
          actee: x.actee,
          name: x.name,
          org: x.org,
          space: x.space,
          metadata: x.metadata,
          actor: x.actor ?? adminGuid,
          actee_type: x.type.startsWith('audit.organization_quota') ? 'organization_quota' : 'space_quota',
          actor_type: 'user',
        })),
      )
      // Refused requests wrote nothing.
      assert.equal(events.filter((e) => e.actee_name === 'bad' || e.actee_name === 'q' || e.actee_name === 'late').length, 0)
    })
  })
}

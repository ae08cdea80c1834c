import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, expectOk, type Reply } from './support/client.ts'
import { ledgerProblems, readEvents, withStore } from './support/db.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function cfError(r: Reply, status: number, title: string, code: number, detail: string) {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual(r.body, { errors: [{ code, title: `CF-${title}`, detail }] })
}

const names = (r: Reply) => (r.body.resources as { name: string }[]).map((x) => x.name)

for (const store of stores()) {
  describe(`organizations and spaces [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let adminGuid: string
    /** The audit events the changes below must have written, in order. */
    const expected: { type: string; actee: string; space?: string; org: string }[] = []

    const createOrg = async (name: string, extra: Record<string, unknown> = {}) => {
      const r = expectOk(await admin.post('/v3/organizations', { name, ...extra }), 201)
      expected.push({ type: 'audit.organization.create', actee: r.body.guid, org: r.body.guid })
      return r.body
    }
    const createSpace = async (name: string, orgGuid: string, extra: Record<string, unknown> = {}) => {
      const r = expectOk(await admin.post('/v3/spaces', { name, relationships: { organization: { data: { guid: orgGuid } } }, ...extra }), 201)
      expected.push({ type: 'audit.space.create', actee: r.body.guid, space: r.body.guid, org: orgGuid })
      return r.body
    }

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const token = JSON.parse(Buffer.from(admin.token!.split('.')[1]!, 'base64url').toString())
      adminGuid = token.user_id
    })
    after(() => server.stop())

    it('creates, shows and updates an organization with labels and annotations', async () => {
      const org = await createOrg('acme', { metadata: { labels: { env: 'prod', 'example.com/team': 'a' }, annotations: { contact: 'ops@acme.example' } } })
      assert.match(org.guid, /^[0-9a-f-]{36}$/)
      assert.match(org.created_at, TIMESTAMP)
      assert.equal(org.updated_at, org.created_at)
      assert.equal(org.name, 'acme')
      assert.equal(org.suspended, false)
      assert.deepEqual(org.relationships, { quota: { data: null } })
      assert.deepEqual(org.metadata, { labels: { env: 'prod', 'example.com/team': 'a' }, annotations: { contact: 'ops@acme.example' } })
      const self = `${server.url}/v3/organizations/${org.guid}`
      assert.deepEqual(org.links, { self: { href: self }, domains: { href: `${self}/domains` }, default_domain: { href: `${self}/domains/default` } })
      assert.deepEqual(expectOk(await admin.get(`/v3/organizations/${org.guid}`)).body, org)

      const patched = expectOk(
        await admin.patch(`/v3/organizations/${org.guid}`, {
          name: 'acme-corp',
          metadata: { labels: { env: null, tier: 'gold' }, annotations: { contact: 'help@acme.example' } },
        }),
      ).body
      expected.push({ type: 'audit.organization.update', actee: org.guid, org: org.guid })
      assert.equal(patched.name, 'acme-corp')
      assert.deepEqual(patched.metadata, { labels: { 'example.com/team': 'a', tier: 'gold' }, annotations: { contact: 'help@acme.example' } })
      assert.deepEqual(expectOk(await admin.get(`/v3/organizations/${org.guid}`)).body, patched)
    })

    it('creates, shows and updates a space, including its organization', async () => {
      const org = await createOrg('space-home')
      const space = await createSpace('dev', org.guid, { metadata: { labels: { stage: 'dev' } } })
      assert.equal(space.name, 'dev')
      assert.deepEqual(space.relationships, { organization: { data: { guid: org.guid } }, quota: { data: null } })
      assert.deepEqual(space.metadata, { labels: { stage: 'dev' }, annotations: {} })
      const self = `${server.url}/v3/spaces/${space.guid}`
      assert.deepEqual(space.links, {
        self: { href: self },
        organization: { href: `${server.url}/v3/organizations/${org.guid}` },
        features: { href: `${self}/features` },
        apply_manifest: { href: `${self}/actions/apply_manifest`, method: 'POST' },
      })
      const shown = expectOk(await admin.get(`/v3/spaces/${space.guid}?include=organization`)).body
      assert.equal(shown.guid, space.guid)
      assert.deepEqual(shown.included.organizations.map((o: { guid: string }) => o.guid), [org.guid])

      const renamed = expectOk(await admin.patch(`/v3/spaces/${space.guid}`, { name: 'development' })).body
      expected.push({ type: 'audit.space.update', actee: space.guid, space: space.guid, org: org.guid })
      assert.equal(renamed.name, 'development')
      assert.deepEqual(renamed.metadata, space.metadata)

      const listed = expectOk(await admin.get(`/v3/spaces?organization_guids=${org.guid}&include=organization`)).body
      assert.deepEqual(names({ body: listed } as Reply), ['development'])
      assert.equal(listed.included.organizations[0].name, 'space-home')
    })

    it('filters organizations and spaces by names, guids, organization_guids and label_selector', async () => {
      const a = await createOrg('flt-a', { metadata: { labels: { env: 'prod', tier: 'gold' } } })
      const b = await createOrg('flt-b', { metadata: { labels: { env: 'dev' } } })
      const c = await createOrg('flt-c')
      const all = 'names=flt-a,flt-b,flt-c&order_by=name'
      const q = async (query: string) => names(expectOk(await admin.get(`/v3/organizations?${all}&${query}`)))
      assert.deepEqual(await q(''), ['flt-a', 'flt-b', 'flt-c'])
      assert.deepEqual(names(expectOk(await admin.get('/v3/organizations?names=flt-b,flt-c&order_by=name'))), ['flt-b', 'flt-c'])
      assert.deepEqual(await q(`guids=${a.guid},${c.guid}`), ['flt-a', 'flt-c'])
      assert.deepEqual(await q('label_selector=env=prod'), ['flt-a'])
      assert.deepEqual(await q('label_selector=env==dev'), ['flt-b'])
      assert.deepEqual(await q('label_selector=env!=prod'), ['flt-b', 'flt-c'])
      assert.deepEqual(await q(`label_selector=${encodeURIComponent('env in (prod,dev)')}`), ['flt-a', 'flt-b'])
      assert.deepEqual(await q(`label_selector=${encodeURIComponent('env notin (prod)')}`), ['flt-b', 'flt-c'])
      assert.deepEqual(await q('label_selector=env'), ['flt-a', 'flt-b'])
      assert.deepEqual(await q('label_selector=!env'), ['flt-c'])
      assert.deepEqual(await q('label_selector=env=prod,tier=gold'), ['flt-a'])
      assert.deepEqual(await q('label_selector=env=prod,tier=silver'), [])

      const sa = await createSpace('s1', a.guid, { metadata: { labels: { team: 'x' } } })
      await createSpace('s2', a.guid)
      const sb = await createSpace('s1', b.guid)
      const sq = async (query: string) =>
        (expectOk(await admin.get(`/v3/spaces?organization_guids=${a.guid},${b.guid}&order_by=name&${query}`)).body.resources as { guid: string }[]).map((s) => s.guid)
      assert.deepEqual((await sq('names=s1')).sort(), [sa.guid, sb.guid].sort())
      assert.deepEqual(await sq(`names=s1&organization_guids=${b.guid}`), [sb.guid])
      assert.deepEqual(await sq(`guids=${sa.guid}`), [sa.guid])
      assert.deepEqual(await sq('label_selector=team=x'), [sa.guid])
      assert.equal((await sq('')).length, 3)
    })

    it('filters by created_ats and updated_ats, with and without operators', async () => {
      const first = await createOrg('ts-1')
      await sleep(1100)
      const second = await createOrg('ts-2')
      assert.notEqual(first.created_at, second.created_at)
      const both = 'names=ts-1,ts-2&order_by=name'
      const q = async (query: string) => names(expectOk(await admin.get(`/v3/organizations?${both}&${query}`)))
      assert.deepEqual(await q(`created_ats=${first.created_at}`), ['ts-1'])
      assert.deepEqual(await q(`created_ats=${first.created_at},${second.created_at}`), ['ts-1', 'ts-2'])
      assert.deepEqual(await q(`created_ats[lt]=${second.created_at}`), ['ts-1'])
      assert.deepEqual(await q(`created_ats[lte]=${second.created_at}`), ['ts-1', 'ts-2'])
      assert.deepEqual(await q(`created_ats[gt]=${first.created_at}`), ['ts-2'])
      assert.deepEqual(await q(`created_ats[gte]=${first.created_at}`), ['ts-1', 'ts-2'])
      assert.deepEqual(await q(`created_ats[gt]=${first.created_at}&created_ats[lt]=${second.created_at}`), [])

      await sleep(1100)
      const touched = expectOk(await admin.patch(`/v3/organizations/${first.guid}`, { metadata: { annotations: { note: 'x' } } })).body
      expected.push({ type: 'audit.organization.update', actee: first.guid, org: first.guid })
      assert.notEqual(touched.updated_at, touched.created_at)
      assert.deepEqual(await q(`updated_ats[gt]=${second.updated_at}`), ['ts-1'])
      assert.deepEqual(await q(`updated_ats=${second.updated_at}`), ['ts-2'])

      const space = await createSpace('ts-space', first.guid)
      const spaces = expectOk(await admin.get(`/v3/spaces?organization_guids=${first.guid}&created_ats[gte]=${space.created_at}`))
      assert.deepEqual(names(spaces), ['ts-space'])

      cfError(
        await admin.get('/v3/organizations?created_ats=yesterday'),
        400,
        'BadQueryParameter',
        10005,
        "The query parameter is invalid: Created ats has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'",
      )
    })

    it('orders by name, created_at and updated_at, ascending or descending', async () => {
      await createOrg('ord-b')
      await createOrg('ord-c')
      await createOrg('ord-a')
      const q = async (order: string) => names(expectOk(await admin.get(`/v3/organizations?names=ord-a,ord-b,ord-c&order_by=${order}`)))
      assert.deepEqual(await q('name'), ['ord-a', 'ord-b', 'ord-c'])
      assert.deepEqual(await q('-name'), ['ord-c', 'ord-b', 'ord-a'])
      assert.deepEqual(await q('%2Bname'), ['ord-a', 'ord-b', 'ord-c'])
      assert.deepEqual(await q('created_at'), ['ord-b', 'ord-c', 'ord-a'])
      assert.deepEqual(await q('-created_at'), ['ord-a', 'ord-c', 'ord-b'])
      assert.deepEqual(await q('-updated_at'), ['ord-a', 'ord-c', 'ord-b'])
      // The default order is created_at ascending.
      assert.deepEqual(names(expectOk(await admin.get('/v3/organizations?names=ord-a,ord-b,ord-c'))), ['ord-b', 'ord-c', 'ord-a'])
    })

    it('paginates with absolute links that keep the filters', async () => {
      for (const n of ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']) await createOrg(n)
      const filter = 'names=pg-1,pg-2,pg-3,pg-4,pg-5'
      const link = (page: number) => ({ href: `${server.url}/v3/organizations?names=${encodeURIComponent('pg-1,pg-2,pg-3,pg-4,pg-5')}&order_by=name&page=${page}&per_page=2` })
      const p1 = expectOk(await admin.get(`/v3/organizations?${filter}&order_by=name&per_page=2`)).body
      assert.deepEqual(p1.pagination, { total_results: 5, total_pages: 3, first: link(1), last: link(3), next: link(2), previous: null })
      assert.deepEqual(names({ body: p1 } as Reply), ['pg-1', 'pg-2'])

      const p2 = expectOk(await admin.get(p1.pagination.next.href.slice(server.url.length))).body
      assert.deepEqual(names({ body: p2 } as Reply), ['pg-3', 'pg-4'])
      assert.deepEqual(p2.pagination.previous, link(1))
      assert.deepEqual(p2.pagination.next, link(3))

      const p3 = expectOk(await admin.get(p2.pagination.next.href.slice(server.url.length))).body
      assert.deepEqual(names({ body: p3 } as Reply), ['pg-5'])
      assert.equal(p3.pagination.next, null)

      const beyond = expectOk(await admin.get(`/v3/organizations?${filter}&page=9&per_page=2`)).body
      assert.deepEqual(beyond.resources, [])
      assert.equal(beyond.pagination.total_results, 5)

      const none = expectOk(await admin.get('/v3/organizations?names=no-such-org')).body
      assert.equal(none.pagination.total_results, 0)
      assert.equal(none.pagination.total_pages, 1)
      assert.deepEqual(none.pagination.last, { href: `${server.url}/v3/organizations?names=no-such-org&page=1&per_page=50` })

      // A filter value with a bare '%' is taken literally, not a server error.
      expectOk(await admin.get('/v3/organizations?names=50%25'))
    })

    it('answers bad input with CF errors and writes nothing', async () => {
      const org = await createOrg('taken')
      const other = await createOrg('other')
      const space = await createSpace('taken-space', org.guid)
      await createSpace('free-space', org.guid)

      const bad = async (method: string, path: string, body: unknown, status: number, title: string, code: number, detail: string) =>
        cfError(await admin.request(method, path, body), status, title, code, detail)

      await bad('POST', '/v3/organizations', { name: 'x1', foo: 1 }, 422, 'UnprocessableEntity', 10008, "Unknown field(s): 'foo'")
      await bad('POST', '/v3/organizations', { name: 'x1', foo: 1, bar: 2 }, 422, 'UnprocessableEntity', 10008, "Unknown field(s): 'foo', 'bar'")
      await bad('POST', '/v3/organizations', '{"name": "x1"', 400, 'MessageParseError', 1001, 'Request invalid due to parse error: invalid request body')
      await bad('POST', '/v3/organizations', '[1,2]', 400, 'MessageParseError', 1001, 'Request invalid due to parse error: invalid request body')
      await bad('POST', '/v3/organizations', {}, 422, 'UnprocessableEntity', 10008, "Name can't be blank")
      await bad('POST', '/v3/organizations', { name: 7 }, 422, 'UnprocessableEntity', 10008, 'Name must be a string')
      await bad('POST', '/v3/organizations', { name: 'x'.repeat(256) }, 422, 'UnprocessableEntity', 10008, 'Name is too long (maximum is 255 characters)')
      await bad('POST', '/v3/organizations', { name: 'taken' }, 422, 'UnprocessableEntity', 10008, "Organization 'taken' already exists.")
      await bad('PATCH', `/v3/organizations/${other.guid}`, { name: 'taken' }, 422, 'UnprocessableEntity', 10008, "Organization name 'taken' is already taken.")
      await bad('PATCH', `/v3/organizations/${other.guid}`, { suspended: 'yes' }, 422, 'UnprocessableEntity', 10008, 'Suspended must be a boolean')
      await bad('POST', '/v3/organizations', { name: 'x2', metadata: { labels: { 'bad key!': 'v' } } }, 422, 'UnprocessableEntity', 10008, 'Metadata label key error: key is not a valid label key')

      const spaceBody = (name: string, orgGuid: string) => ({ name, relationships: { organization: { data: { guid: orgGuid } } } })
      await bad('POST', '/v3/spaces', spaceBody('taken-space', org.guid), 422, 'UnprocessableEntity', 10008, 'Name must be unique per organization')
      await bad('PATCH', `/v3/spaces/${space.guid}`, { name: 'free-space' }, 422, 'UnprocessableEntity', 10008, 'Name must be unique per organization')
      await bad('POST', '/v3/spaces', spaceBody('x3', '00000000-0000-0000-0000-000000000000'), 422, 'UnprocessableEntity', 10008, 'Invalid organization. Ensure the organization exists and you have access to it.')
      await bad('POST', '/v3/spaces', { ...spaceBody('x3', org.guid), color: 'red' }, 422, 'UnprocessableEntity', 10008, "Unknown field(s): 'color'")
      await bad('PATCH', `/v3/spaces/${space.guid}`, '{', 400, 'MessageParseError', 1001, 'Request invalid due to parse error: invalid request body')

      await bad('GET', '/v3/organizations/00000000-0000-0000-0000-000000000000', undefined, 404, 'ResourceNotFound', 10010, 'Organization not found')
      await bad('GET', '/v3/spaces/00000000-0000-0000-0000-000000000000', undefined, 404, 'ResourceNotFound', 10010, 'Space not found')
      await bad('DELETE', '/v3/spaces/00000000-0000-0000-0000-000000000000', undefined, 404, 'ResourceNotFound', 10010, 'Space not found')
      await bad('GET', '/v3/no-such-thing', undefined, 404, 'NotFound', 10000, 'Unknown request')

      const q = (query: string, detail: string) => bad('GET', `/v3/organizations?${query}`, undefined, 400, 'BadQueryParameter', 10005, `The query parameter is invalid: ${detail}`)
      await q('per_page=0', 'Per page must be between 1 and 5000')
      await q('per_page=5001', 'Per page must be between 1 and 5000')
      await q('per_page=ten', 'Per page must be between 1 and 5000')
      await q('page=0', 'Page must be a positive integer')
      await q('page=-1', 'Page must be a positive integer')
      await q('order_by=color', "Order by can only be: 'created_at', 'updated_at', 'name'")
      await q('label_selector=', 'Missing label_selector value')
      await q(`label_selector=${encodeURIComponent('env in prod')}`, 'Invalid label_selector value')
      const unknown = await admin.get('/v3/organizations?colour=red')
      assert.equal(unknown.status, 400)
      assert.match(unknown.body.errors[0].detail, /^The query parameter is invalid: Unknown query parameter\(s\): 'colour'\. Valid parameters are: /)
      expectOk(await admin.get('/v3/organizations?per_page=5000'))
      const spaceQuery = await admin.get('/v3/spaces?order_by=color')
      assert.equal(spaceQuery.status, 400)

      // Nothing of the refused requests was written.
      const written = expectOk(await admin.get('/v3/organizations?names=x1,x2,x3,taken,other&order_by=name'))
      assert.deepEqual(names(written), ['other', 'taken'])
      assert.deepEqual(expectOk(await admin.get(`/v3/organizations/${other.guid}`)).body.name, 'other')
      assert.deepEqual(expectOk(await admin.get(`/v3/spaces/${space.guid}`)).body.name, 'taken-space')
      assert.deepEqual(names(expectOk(await admin.get(`/v3/spaces?organization_guids=${org.guid}&order_by=name`))), ['free-space', 'taken-space'])
    })

    it('deletes a space and then an organization with its spaces asynchronously', async () => {
      const org = await createOrg('doomed')
      const keep = await createSpace('keep-until-org-goes', org.guid)
      const space = await createSpace('doomed-space', org.guid)

      const del = await admin.delete(`/v3/spaces/${space.guid}`)
      assert.equal(del.status, 202)
      assert.equal(del.body, undefined)
      expected.push({ type: 'audit.space.delete-request', actee: space.guid, space: space.guid, org: org.guid })
      const location = del.headers.get('location')!
      assert.match(location, new RegExp(`^${server.url}/v3/jobs/[0-9a-f-]{36}$`))
      const job = (await admin.waitForJob(location)).body
      assert.equal(job.state, 'COMPLETE')
      assert.equal(job.operation, 'space.delete')
      assert.deepEqual(job.errors, [])
      assert.deepEqual(job.warnings, [])
      assert.deepEqual(job.links, { self: { href: location } })
      assert.match(job.created_at, TIMESTAMP)
      cfError(await admin.get(`/v3/spaces/${space.guid}`), 404, 'ResourceNotFound', 10010, 'Space not found')

      const delOrg = await admin.delete(`/v3/organizations/${org.guid}`)
      assert.equal(delOrg.status, 202)
      expected.push({ type: 'audit.organization.delete-request', actee: org.guid, org: org.guid })
      const orgJob = (await admin.waitForJob(delOrg.headers.get('location')!)).body
      assert.equal(orgJob.state, 'COMPLETE')
      assert.equal(orgJob.operation, 'organization.delete')
      cfError(await admin.get(`/v3/organizations/${org.guid}`), 404, 'ResourceNotFound', 10010, 'Organization not found')
      cfError(await admin.get(`/v3/spaces/${keep.guid}`), 404, 'ResourceNotFound', 10010, 'Space not found')
      cfError(await admin.get('/v3/jobs/00000000-0000-0000-0000-000000000000'), 404, 'ResourceNotFound', 10010, 'Job not found')
      // The name is free again.
      await createOrg('doomed')
    })

    it('wrote exactly one audit event per change, in order, with an intact hash chain', async () => {
      const { events, problems } = await withStore(server, async (q) => {
        const events = await readEvents(q)
        return { events, problems: await ledgerProblems(q, events) }
      })
      assert.deepEqual(problems, [])
      assert.deepEqual(
        events.map((e) => ({ type: e.type, actee: e.actee, space: e.space_guid || undefined, org: e.organization_guid })),
        expected.map((e) => ({ ...e, space: e.space })),
      )
      for (const e of events) {
        assert.equal(e.actor, adminGuid)
        assert.equal(e.actor_type, 'user')
        assert.equal(e.actor_username, 'admin')
        assert.equal(e.actee_type, e.type.startsWith('audit.space') ? 'space' : 'organization')
        assert.ok(e.actee_name)
      }
      const created = events.find((e) => e.type === 'audit.organization.create' && e.actee_name === 'acme')!
      assert.deepEqual(created.metadata, {
        request: { name: 'acme', metadata: { labels: { env: 'prod', 'example.com/team': 'a' }, annotations: { contact: 'ops@acme.example' } } },
      })
      const deleted = events.find((e) => e.type === 'audit.space.delete-request')!
      assert.deepEqual(deleted.metadata, { request: { recursive: true } })
    })
  })
}

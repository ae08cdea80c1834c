// GET /v3/audit_events and GET /v2/events against a real server: shape, every filter and
// operator, order, paging and the documented errors (docs/audit-events.md).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant, type Reply } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

interface V3Event {
  guid: string
  created_at: string
  updated_at: string
  type: string
  actor: { guid: string; type: string; name: string }
  target: { guid: string; type: string; name: string }
  data: Record<string, unknown>
  space: { guid: string } | null
  organization: { guid: string } | null
  links: { self: { href: string } }
}

function v3Error(r: Reply, status: number, title: string, code: number, detail: string) {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual(r.body, { errors: [{ code, title: `CF-${title}`, detail }] })
}

function v2Error(r: Reply, status: number, name: string, code: number, description: string) {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual({ code: r.body.code, description: r.body.description, error_code: r.body.error_code }, { code, description, error_code: `CF-${name}` })
}

const guids = (r: Reply) => (r.body.resources as { guid: string }[]).map((e) => e.guid)
const v2guids = (r: Reply) => (r.body.resources as { metadata: { guid: string } }[]).map((e) => e.metadata.guid)
const plusSecond = (t: string) => new Date(Date.parse(t) + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
const minusSecond = (t: string) => new Date(Date.parse(t) - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')

for (const store of stores()) {
  describe(`audit events API [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let all: V3Event[] // every event, oldest first (CC's default order)
    let orgA: string, spaceA1: string, spaceA2: string, orgB: string, spaceB1: string, user: string
    let second1: string, second2: string // the whole seconds of the first and second batch

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      ;({ orgGuid: orgA, spaceGuid: spaceA1 } = await createOrgAndSpace(admin, 'org-a', 'a1'))
      spaceA2 = expectOk(await admin.post('/v3/spaces', { name: 'a2', relationships: { organization: { data: { guid: orgA } } } }), 201).body.guid
      ;({ orgGuid: orgB, spaceGuid: spaceB1 } = await createOrgAndSpace(admin, 'org-b', 'b1'))
      user = (await createUser(admin, 'eve')).guid
      await grant(admin, 'organization_user', user, { org: orgA })
      await grant(admin, 'space_developer', user, { space: spaceA1 })
      // A second batch in a later whole second, for the time filters.
      await sleep(1100)
      expectOk(await admin.patch(`/v3/organizations/${orgA}`, { metadata: { labels: { touched: 'yes' } } }))
      expectOk(await admin.patch(`/v3/spaces/${spaceA2}`, { name: 'a2-renamed' }))
      expectOk(await admin.patch(`/v3/spaces/${spaceB1}`, { metadata: { annotations: { note: 'x' } } }))
      all = expectOk(await admin.get('/v3/audit_events?per_page=5000')).body.resources
      second1 = all[0]!.created_at
      second2 = all.at(-1)!.created_at
    })
    after(() => server.stop())

    /** The admin's view of `query`, checked against the same filter applied to `all`. */
    async function check(query: string, expected: (e: V3Event) => boolean) {
      const r = expectOk(await admin.get(`/v3/audit_events?per_page=5000&${query}`))
      const want = all.filter(expected).map((e) => e.guid)
      assert.deepEqual(guids(r), want, query)
      assert.equal(r.body.pagination.total_results, want.length, `total_results for ${query}`)
      return r
    }

    it('presents events in CC shape, oldest first, and shows one by guid', async () => {
      assert.deepEqual(
        all.map((e) => e.type),
        [
          'audit.organization.create',
          'audit.space.create',
          'audit.space.create',
          'audit.organization.create',
          'audit.space.create',
          'audit.user.organization_user_add',
          'audit.user.space_developer_add',
          'audit.organization.update',
          'audit.space.update',
          'audit.space.update',
        ],
      )
      const orgCreate = all.find((e) => e.type === 'audit.organization.create' && e.target.guid === orgA)!
      const token = JSON.parse(Buffer.from(admin.token!.split('.')[1]!, 'base64url').toString())
      assert.deepEqual(orgCreate, {
        guid: orgCreate.guid,
        created_at: orgCreate.created_at,
        updated_at: orgCreate.created_at,
        type: 'audit.organization.create',
        actor: { guid: token.user_id, type: 'user', name: orgCreate.actor.name },
        target: { guid: orgA, type: 'organization', name: 'org-a' },
        data: { request: { name: 'org-a' } },
        space: null,
        organization: { guid: orgA },
        links: { self: { href: `${server.url}/v3/audit_events/${orgCreate.guid}` } },
      })
      assert.match(orgCreate.created_at, TIMESTAMP)
      const spaceRole = all.find((e) => e.type === 'audit.user.space_developer_add')!
      assert.deepEqual(spaceRole.space, { guid: spaceA1 })
      assert.deepEqual(spaceRole.organization, { guid: orgA })
      assert.deepEqual(spaceRole.target, { guid: user, type: 'user', name: 'eve' })
      assert.deepEqual(expectOk(await admin.get(`/v3/audit_events/${spaceRole.guid}`)).body, spaceRole)
      v3Error(await admin.get('/v3/audit_events/no-such-event'), 404, 'ResourceNotFound', 10010, 'Event not found')
    })

    it('filters by types, target_guids, target_guids[not], space_guids, organization_guids and guids', async () => {
      await check('types=audit.space.create,audit.organization.update', (e) => ['audit.space.create', 'audit.organization.update'].includes(e.type))
      await check('types=audit.nothing', () => false)
      await check('types=', () => false)
      await check(`target_guids=${orgA},${user}`, (e) => [orgA, user].includes(e.target.guid))
      await check(`target_guids[not]=${orgA},${user}`, (e) => ![orgA, user].includes(e.target.guid))
      await check(`space_guids=${spaceA1}`, (e) => e.space?.guid === spaceA1)
      // Space-level events carry their org's guid, so an org filter includes them.
      await check(`organization_guids=${orgA}`, (e) => e.organization?.guid === orgA)
      await check(`guids=${all[2]!.guid},${all[5]!.guid}`, (e) => e.guid === all[2]!.guid || e.guid === all[5]!.guid)
      await check(`organization_guids=${orgA}&types=audit.space.create&target_guids[not]=${spaceA1}`, (e) =>
        e.organization?.guid === orgA && e.type === 'audit.space.create' && e.target.guid !== spaceA1,
      )
      await check(`space_guids=${spaceA1},${spaceB1}&organization_guids=${orgB}`, (e) => e.space?.guid === spaceB1)
    })

    it('filters created_ats and updated_ats by whole seconds, with [lt] [lte] [gt] [gte] and lists', async () => {
      assert.notEqual(second1, second2)
      const at = (e: V3Event) => Date.parse(e.created_at)
      const s1 = Date.parse(second1)
      const s2 = Date.parse(second2)
      await check(`created_ats=${second2}`, (e) => at(e) === s2)
      await check(`created_ats=${second1},${second2}`, (e) => at(e) === s1 || at(e) === s2)
      await check(`created_ats[lt]=${second2}`, (e) => at(e) < s2)
      await check(`created_ats[lte]=${second1}`, (e) => at(e) <= s1)
      await check(`created_ats[gt]=${second1}`, (e) => at(e) > s1)
      await check(`created_ats[gte]=${second2}`, (e) => at(e) >= s2)
      await check(`created_ats[gt]=${minusSecond(second1)}&created_ats[lt]=${plusSecond(second2)}`, () => true)
      await check(`updated_ats[gte]=${second2}&types=audit.space.update`, (e) => at(e) >= s2 && e.type === 'audit.space.update')
      await check(`updated_ats=${second1}&created_ats[gt]=${second1}`, () => false)
    })

    it('orders by id, created_at or updated_at, ascending or descending', async () => {
      // created_at has sub-second precision and follows the ledger's append order here.
      const byTime = all
      const q = async (order: string) => guids(expectOk(await admin.get(`/v3/audit_events?per_page=5000&order_by=${order}`)))
      assert.deepEqual(await q('created_at'), byTime.map((e) => e.guid))
      assert.deepEqual(await q('%2Bcreated_at'), byTime.map((e) => e.guid))
      assert.deepEqual(await q('updated_at'), byTime.map((e) => e.guid))
      assert.deepEqual(await q('-created_at'), [...byTime].reverse().map((e) => e.guid))
      assert.deepEqual(await q('-updated_at'), [...byTime].reverse().map((e) => e.guid))
    })

    it('pages with per_page and page, and links keep the filters', async () => {
      const r = expectOk(await admin.get(`/v3/audit_events?per_page=3&page=2&organization_guids=${orgA}&order_by=-created_at`))
      const orgEvents = all.filter((e) => e.organization?.guid === orgA)
      const desc = [...orgEvents].reverse()
      assert.deepEqual(guids(r), desc.slice(3, 6).map((e) => e.guid))
      const p = r.body.pagination
      assert.equal(p.total_results, orgEvents.length)
      assert.equal(p.total_pages, Math.ceil(orgEvents.length / 3))
      const base = `${server.url}/v3/audit_events?order_by=-created_at&organization_guids=${orgA}`
      assert.equal(p.first.href, `${base}&page=1&per_page=3`)
      assert.equal(p.last.href, `${base}&page=${p.total_pages}&per_page=3`)
      assert.equal(p.previous.href, `${base}&page=1&per_page=3`)
      assert.equal(p.next.href, `${base}&page=3&per_page=3`)
      // Following next gives the next slice.
      const next = expectOk(await admin.get(p.next.href.replace(server.url, '')))
      assert.deepEqual(guids(next), desc.slice(6, 9).map((e) => e.guid))

      const beyond = expectOk(await admin.get('/v3/audit_events?page=99&per_page=5'))
      assert.deepEqual(beyond.body.resources, [])
      assert.equal(beyond.body.pagination.total_results, all.length)
      assert.equal(beyond.body.pagination.next, null)
      const dflt = expectOk(await admin.get('/v3/audit_events'))
      assert.equal(dflt.body.pagination.first.href, `${server.url}/v3/audit_events?page=1&per_page=50`)
      assert.equal(dflt.body.pagination.previous, null)
      const empty = expectOk(await admin.get('/v3/audit_events?types=none'))
      assert.deepEqual(empty.body.pagination.total_pages, 1)
      assert.deepEqual(expectOk(await admin.get('/v3/audit_events?per_page=5000')).body.resources.length, all.length)
    })

    it('answers bad query parameters with 400 CF-BadQueryParameter and CC messages', async () => {
      const bad = async (query: string, detail: string) =>
        v3Error(await admin.get(`/v3/audit_events?${query}`), 400, 'BadQueryParameter', 10005, `The query parameter is invalid: ${detail}`)
      await bad('per_page=0', 'Per page must be between 1 and 5000')
      await bad('per_page=5001', 'Per page must be between 1 and 5000')
      await bad('per_page=ten', 'Per page must be between 1 and 5000')
      await bad('page=0', 'Page must be a positive integer')
      await bad('page=-1', 'Page must be a positive integer')
      await bad('order_by=type', "Order by can only be: 'created_at', 'updated_at'")
      await bad('order_by=--created_at', "Order by can only be: 'created_at', 'updated_at'")
      const fmt = "has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'"
      await bad('created_ats=yesterday', `Created ats ${fmt}`)
      await bad('created_ats=2020-01-01T00:00:00.5Z', `Created ats ${fmt}`)
      await bad('updated_ats[gt]=2020-01-01', `Updated ats ${fmt}`)
      await bad('created_ats[lt]=2020-01-01T00:00:00Z,2021-01-01T00:00:00Z', 'Created ats only accepts one value when using a relational operator')
      await bad('created_ats[between]=2020-01-01T00:00:00Z', "Created ats Invalid relational operator: 'between'")
      await bad('target_guids[in]=x', 'Target guids target_guids has an invalid operator')
      await bad('target_guids[not]=', 'Target guids target_guids has an invalid operator')
      await bad('types[not]=x', 'Types must be an array')
      const valid =
        "Valid parameters are: 'page', 'per_page', 'order_by', 'created_ats', 'updated_ats', 'guids', 'types', 'target_guids', 'space_guids', 'organization_guids'"
      await bad('colour=red', `Unknown query parameter(s): 'colour'. ${valid}`)
      await bad('label_selector=a%3Db&actor[x]=1', `Unknown query parameter(s): 'label_selector', 'actor'. ${valid}`)
      v3Error(await new Api(server.url).get('/v3/audit_events'), 401, 'NotAuthenticated', 10002, 'Authentication error')
      v3Error(await admin.as('not-a-token').get('/v3/audit_events'), 401, 'InvalidAuthToken', 1000, 'Invalid Auth Token')
    })

    it('serves /v2/events in the v2 envelope with the entity CC exports', async () => {
      const r = expectOk(await admin.get('/v2/events?q=type:audit.user.space_developer_add'))
      const e = all.find((x) => x.type === 'audit.user.space_developer_add')!
      const token = JSON.parse(Buffer.from(admin.token!.split('.')[1]!, 'base64url').toString())
      assert.deepEqual(r.body, {
        total_results: 1,
        total_pages: 1,
        prev_url: null,
        next_url: null,
        resources: [
          {
            metadata: { guid: e.guid, url: `/v2/events/${e.guid}`, created_at: e.created_at, updated_at: e.created_at },
            entity: {
              type: 'audit.user.space_developer_add',
              actor: token.user_id,
              actor_type: 'user',
              actor_name: e.actor.name,
              actor_username: 'admin',
              actee: user,
              actee_type: 'user',
              actee_name: 'eve',
              timestamp: e.created_at,
              metadata: e.data,
              space_guid: spaceA1,
              organization_guid: orgA,
            },
          },
        ],
      })
      assert.deepEqual(Object.keys(r.body.resources[0]!.entity), [
        'type',
        'actor',
        'actor_type',
        'actor_name',
        'actor_username',
        'actee',
        'actee_type',
        'actee_name',
        'timestamp',
        'metadata',
        'space_guid',
        'organization_guid',
      ])
      assert.deepEqual(expectOk(await admin.get(`/v2/events/${e.guid}`)).body, r.body.resources[0])
      const orgEvent = expectOk(await admin.get(`/v2/events/${all[0]!.guid}`)).body
      assert.equal(orgEvent.entity.space_guid, '')
    })

    it('filters /v2/events with the q grammar', async () => {
      const v2 = async (query: string, expected: (e: V3Event) => boolean, order: 'asc' | 'desc' = 'asc') => {
        const r = expectOk(await admin.get(`/v2/events?results-per-page=100&${query}`))
        let want = all.filter(expected)
        want = [...want].sort((a, b) => a.created_at.localeCompare(b.created_at))
        if (order === 'desc') want.reverse()
        assert.deepEqual(new Set(v2guids(r)), new Set(want.map((e) => e.guid)), query)
        assert.equal(r.body.total_results, want.length, query)
        // timestamp order (ties by id, which follows the list order within a second)
        const times = (r.body.resources as { entity: { timestamp: string } }[]).map((x) => x.entity.timestamp)
        assert.deepEqual(times, want.map((e) => e.created_at), query)
        return r
      }
      const at = (e: V3Event) => Date.parse(e.created_at)
      const s1 = Date.parse(second1)
      const s2 = Date.parse(second2)
      await v2('q=type:audit.space.create', (e) => e.type === 'audit.space.create')
      await v2(`q=${encodeURIComponent('type IN audit.space.create,audit.space.update')}`, (e) => e.type.startsWith('audit.space.'))
      await v2(`q=actee:${orgA}`, (e) => e.target.guid === orgA)
      await v2(`q=${encodeURIComponent(`actee IN ${orgA},${spaceB1}`)}`, (e) => e.target.guid === orgA || e.target.guid === spaceB1)
      await v2(`q=space_guid:${spaceA1}`, (e) => e.space?.guid === spaceA1)
      await v2(`q=organization_guid:${orgB}`, (e) => e.organization?.guid === orgB)
      await v2(`q=space_guid:`, (e) => e.space === null)
      // Several q parameters, or ;-joined, are ANDed.
      await v2(`q=organization_guid:${orgA}&q=type:audit.space.create`, (e) => e.organization?.guid === orgA && e.type === 'audit.space.create')
      await v2(`q=${encodeURIComponent(`organization_guid:${orgA};type:audit.space.update`)}`, (e) => e.organization?.guid === orgA && e.type === 'audit.space.update')
      // String comparisons are literal.
      await v2(`q=${encodeURIComponent('type>audit.space')}`, (e) => e.type > 'audit.space')
      await v2(`q=${encodeURIComponent('type<=audit.organization.update')}`, (e) => e.type <= 'audit.organization.update')
      // Timestamps: whole seconds; any zone offset is honoured.
      await v2(`q=timestamp:${second2}`, (e) => at(e) === s2)
      await v2(`q=${encodeURIComponent(`timestamp>${second1}`)}`, (e) => at(e) > s1)
      await v2(`q=${encodeURIComponent(`timestamp>=${second2}`)}`, (e) => at(e) >= s2)
      await v2(`q=${encodeURIComponent(`timestamp<${second2}`)}`, (e) => at(e) < s2)
      await v2(`q=${encodeURIComponent(`timestamp<=${second1}`)}`, (e) => at(e) <= s1)
      await v2(`q=${encodeURIComponent(`timestamp IN ${second1},${second2}`)}`, (e) => at(e) === s1 || at(e) === s2)
      const offset = new Date(s2 + 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+02:00')
      await v2(`q=${encodeURIComponent(`timestamp>=${offset}`)}`, (e) => at(e) >= s2)
      await v2(`q=${encodeURIComponent(`timestamp>=${second2.replace('T', ' ').replace('Z', '')}`)}`, (e) => at(e) >= s2)
      await v2(`q=${encodeURIComponent('timestamp:')}`, () => false)
      await v2(`order-direction=desc&q=organization_guid:${orgA}`, (e) => e.organization?.guid === orgA, 'desc')
    })

    it('pages /v2/events with results-per-page and keeps q in prev_url and next_url', async () => {
      const dflt = expectOk(await admin.get('/v2/events'))
      assert.equal(dflt.body.total_results, all.length)
      assert.equal(dflt.body.resources.length, all.length) // default 50 per page
      const q = `organization_guid:${orgA}`
      const orgEvents = all.filter((e) => e.organization?.guid === orgA)
      const r = expectOk(await admin.get(`/v2/events?results-per-page=2&page=2&q=${q}&q=${encodeURIComponent('type IN audit.space.create,audit.user.organization_user_add,audit.user.space_developer_add,audit.organization.update,audit.organization.create,audit.space.update')}`))
      assert.equal(r.body.total_results, orgEvents.length)
      assert.equal(r.body.total_pages, Math.ceil(orgEvents.length / 2))
      const qIn = 'q=type%20IN%20audit.space.create,audit.user.organization_user_add,audit.user.space_developer_add,audit.organization.update,audit.organization.create,audit.space.update'
      assert.equal(r.body.prev_url, `/v2/events?order-direction=asc&page=1&q=${q}&${qIn}&results-per-page=2`)
      assert.equal(r.body.next_url, `/v2/events?order-direction=asc&page=3&q=${q}&${qIn}&results-per-page=2`)
      const next = expectOk(await admin.get(r.body.next_url))
      assert.equal(next.body.resources.length, Math.min(2, orgEvents.length - 4))
      const gt = expectOk(await admin.get(`/v2/events?results-per-page=1&q=${encodeURIComponent(`timestamp>${second1}`)}`))
      assert.equal(gt.body.next_url, `/v2/events?order-direction=asc&page=2&q=timestamp%3E${second1}&results-per-page=1`)
      const beyond = expectOk(await admin.get('/v2/events?page=9'))
      assert.deepEqual(beyond.body.resources, [])
      assert.equal(beyond.body.prev_url, '/v2/events?order-direction=asc&page=8&results-per-page=50')
      assert.equal(beyond.body.next_url, null)
      const none = expectOk(await admin.get('/v2/events?q=type:none'))
      assert.deepEqual([none.body.total_results, none.body.total_pages, none.body.resources], [0, 1, []])
      // Relations options are accepted and ignored, as events have none.
      expectOk(await admin.get('/v2/events?inline-relations-depth=1&order-by=timestamp'))
      expectOk(await admin.get('/v2/events?results-per-page=100'))
    })

    it('answers bad /v2/events parameters with v2 errors', async () => {
      const bad = async (query: string, description: string) =>
        v2Error(await admin.get(`/v2/events?${query}`), 400, 'BadQueryParameter', 10005, `The query parameter is invalid: ${description}`)
      await bad('results-per-page=101', 'results_per_page must be <= 100')
      await bad('results-per-page=0', 'results-per-page must be a positive integer')
      await bad('results-per-page=many', 'results-per-page must be a positive integer')
      await bad('page=0', 'page must be a positive integer')
      await bad('order-direction=up', "order_direction must be 'asc' or 'desc' but was 'up'")
      await bad('inline-relations-depth=3', 'inline_relations_depth must be <= 2')
      await bad('q=actor:someone', 'actor')
      await bad('q=actee_type:app', 'actee_type')
      await bad('q=type', 'type')
      await bad(`q=${encodeURIComponent('timestamp>yesterday')}`, 'timestamp')
      await bad(`q=${encodeURIComponent('timestamp:2020-02-31T00:00:00Z')}`, 'timestamp')
      v2Error(await admin.get('/v2/events?order-by=type'), 400, 'OrderByParameterInvalid', 10012, 'Cannot order by: type')
      v2Error(await admin.get('/v2/events/no-such-event'), 404, 'EventNotFound', 230002, 'Event could not be found: no-such-event')
      v2Error(await new Api(server.url).get('/v2/events'), 401, 'NotAuthenticated', 10002, 'Authentication error')
    })
  })
}

// Who sees which audit event: every role against every filter kind, on /v3/audit_events and
// /v2/events, list and show. The expected set is always (what admin gets for the same filter) ∩
// (what the role may see), so an event leaking across spaces or orgs fails the test.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { CALLER_ROLES, callerWith, type CallerRole } from './support/roles.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

interface Ev {
  guid: string
  created_at: string
  type: string
  target: { guid: string }
  space: { guid: string } | null
  organization: { guid: string } | null
}

/** Every role as a user, and two as clients (a client with no roles, a client that is a space auditor). */
const CALLERS: readonly { readonly role: CallerRole; readonly as?: 'client' }[] = [...CALLER_ROLES.map((role) => ({ role })), { role: 'none', as: 'client' }, { role: 'space_auditor', as: 'client' }]
const labelOf = (c: (typeof CALLERS)[number]) => (c.as ? `${c.role} (client)` : c.role)

for (const store of stores()) {
  describe(`audit event visibility [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let orgA: string, spaceA1: string, spaceA2: string, orgB: string, spaceB1: string
    const callers = new Map<string, Api>()
    let all: Ev[]

    /** The role's own rule: which events it may read through v3 (v2 drops supporters). */
    function visible(role: CallerRole, e: Ev, v2: boolean): boolean {
      switch (role) {
        case 'admin':
        case 'admin_read_only':
        case 'global_auditor':
          return true
        case 'organization_auditor':
          return e.organization?.guid === orgA
        case 'space_developer':
        case 'space_auditor':
          return e.space?.guid === spaceA1
        case 'space_supporter':
          return !v2 && e.space?.guid === spaceA1
        default:
          return false
      }
    }

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      ;({ orgGuid: orgA, spaceGuid: spaceA1 } = await createOrgAndSpace(admin, 'vis-a', 'a1'))
      spaceA2 = expectOk(await admin.post('/v3/spaces', { name: 'a2', relationships: { organization: { data: { guid: orgA } } } }), 201).body.guid
      ;({ orgGuid: orgB, spaceGuid: spaceB1 } = await createOrgAndSpace(admin, 'vis-b', 'b1'))
      // Roles for a bystander in every scope, so each scope has org- and space-level events.
      const bystander = (await createUser(admin, 'bystander')).guid
      for (const org of [orgA, orgB]) await grant(admin, 'organization_user', bystander, { org })
      for (const space of [spaceA1, spaceA2, spaceB1]) await grant(admin, 'space_developer', bystander, { space })
      expectOk(await admin.patch(`/v3/organizations/${orgB}`, { metadata: { labels: { x: 'y' } } }))
      expectOk(await admin.patch(`/v3/spaces/${spaceA2}`, { name: 'a2-renamed' }))

      for (const c of CALLERS) callers.set(labelOf(c), await callerWith(admin, c.role, { orgGuid: orgA, spaceGuid: spaceA1 }, { as: c.as }))
      all = expectOk(await admin.get('/v3/audit_events?per_page=5000')).body.resources
    })
    after(() => server.stop())

    it('has events at every scope: org-level, space-level in each space, in both orgs', () => {
      for (const space of [spaceA1, spaceA2, spaceB1]) assert.ok(all.some((e) => e.space?.guid === space), space)
      for (const org of [orgA, orgB]) assert.ok(all.some((e) => e.organization?.guid === org && e.space === null), org)
      // Each scoped role sees some events and misses others, so the checks below are not vacuous.
      for (const role of ['organization_auditor', 'space_auditor', 'space_supporter'] as const) {
        const seen = all.filter((e) => visible(role, e, false)).length
        assert.ok(seen > 0 && seen < all.length, `${role} sees ${seen} of ${all.length}`)
      }
    })

    const v3Filters = (): [string, (e: Ev) => boolean][] => {
      const mid = all[Math.floor(all.length / 2)]!
      return [
        ['', () => true],
        ['types=audit.space.create,audit.organization.update', (e) => e.type === 'audit.space.create' || e.type === 'audit.organization.update'],
        [`space_guids=${spaceA1}`, (e) => e.space?.guid === spaceA1],
        [`space_guids=${spaceA2},${spaceB1}`, (e) => e.space?.guid === spaceA2 || e.space?.guid === spaceB1],
        [`organization_guids=${orgA}`, (e) => e.organization?.guid === orgA],
        [`organization_guids=${orgB}`, (e) => e.organization?.guid === orgB],
        [`target_guids=${orgA},${spaceB1}`, (e) => e.target.guid === orgA || e.target.guid === spaceB1],
        [`target_guids[not]=${spaceA1}`, (e) => e.target.guid !== spaceA1],
        [`guids=${all.map((e) => e.guid).join(',')}`, () => true],
        [`created_ats[gte]=${mid.created_at}`, (e) => e.created_at >= mid.created_at],
        [`organization_guids=${orgB}&space_guids=${spaceA1}`, () => false],
      ]
    }

    const v2Filters = (): [string, (e: Ev) => boolean][] => [
      ['', () => true],
      ['q=type:audit.space.create', (e) => e.type === 'audit.space.create'],
      [`q=space_guid:${spaceA1}`, (e) => e.space?.guid === spaceA1],
      [`q=space_guid:${spaceB1}`, (e) => e.space?.guid === spaceB1],
      [`q=organization_guid:${orgA}`, (e) => e.organization?.guid === orgA],
      [`q=organization_guid:${orgB}`, (e) => e.organization?.guid === orgB],
      [`q=actee:${orgB}`, (e) => e.target.guid === orgB],
      [`q=${encodeURIComponent(`actee IN ${spaceA1},${spaceB1}`)}`, (e) => e.target.guid === spaceA1 || e.target.guid === spaceB1],
    ]

    for (const c of CALLERS) {
      const role = c.role
      it(`shows ${labelOf(c)} exactly its events on /v3/audit_events, for every filter`, async () => {
        const api = callers.get(labelOf(c))!
        const problems: string[] = []
        for (const [query, matches] of v3Filters()) {
          const r = expectOk(await api.get(`/v3/audit_events?per_page=5000&${query}`))
          const want = all.filter((e) => matches(e) && visible(role, e, false)).map((e) => e.guid)
          const got = (r.body.resources as Ev[]).map((e) => e.guid)
          if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${query || '(none)'}: got ${got.length}, want ${want.length}`)
          if (r.body.pagination.total_results !== want.length) problems.push(`${query || '(none)'}: total_results ${r.body.pagination.total_results}`)
        }
        for (const e of all) {
          const r = await api.get(`/v3/audit_events/${e.guid}`)
          const want = visible(role, e, false) ? 200 : 404
          if (r.status !== want) problems.push(`show ${e.type} ${e.guid}: ${r.status}, want ${want}`)
          if (r.status === 404 && r.body.errors[0].detail !== 'Event not found') problems.push(`show ${e.guid}: ${JSON.stringify(r.body)}`)
        }
        assert.deepEqual(problems, [])
      })

      it(`shows ${labelOf(c)} exactly its events on /v2/events, for every q`, async () => {
        const api = callers.get(labelOf(c))!
        const problems: string[] = []
        for (const [query, matches] of v2Filters()) {
          const r = expectOk(await api.get(`/v2/events?results-per-page=100&${query}`))
          const want = new Set(all.filter((e) => matches(e) && visible(role, e, true)).map((e) => e.guid))
          const got = new Set((r.body.resources as { metadata: { guid: string } }[]).map((e) => e.metadata.guid))
          if ([...want].some((g) => !got.has(g)) || got.size !== want.size) problems.push(`${query || '(none)'}: got ${got.size}, want ${want.size}`)
          if (r.body.total_results !== want.size) problems.push(`${query || '(none)'}: total_results ${r.body.total_results}`)
        }
        for (const e of all) {
          const r = await api.get(`/v2/events/${e.guid}`)
          const want = visible(role, e, true) ? 200 : 403
          if (r.status !== want) problems.push(`show ${e.type} ${e.guid}: ${r.status}, want ${want}`)
          if (r.status === 403 && r.body.error_code !== 'CF-NotAuthorized') problems.push(`show ${e.guid}: ${JSON.stringify(r.body)}`)
        }
        assert.deepEqual(problems, [])
      })
    }
  })
}

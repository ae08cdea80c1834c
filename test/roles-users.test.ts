import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant, type Reply } from './support/client.ts'
import { ledgerProblems, readEvents, withStore } from './support/db.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

function cfError(r: Reply, status: number, title: string, code: number, detail: string) {
  assert.equal(r.status, status, JSON.stringify(r.body))
  assert.deepEqual(r.body, { errors: [{ code, title: `CF-${title}`, detail }] })
}
const unprocessable = (r: Reply, detail: string) => cfError(r, 422, 'UnprocessableEntity', 10008, detail)

/** A SCIM user in UAA only, not yet registered with Cloud Controller. */
async function uaaUser(admin: Api, userName: string): Promise<string> {
  return expectOk(await admin.post('/Users', { userName, password: `pw-${userName}`, emails: [{ value: `${userName}@example.com` }] }), 201).body.id
}

const orgRole = (type: string, org: string, user: Record<string, string>) => ({
  type,
  relationships: { organization: { data: { guid: org } }, user: { data: user } },
})
const spaceRole = (type: string, space: string, user: Record<string, string>) => ({
  type,
  relationships: { space: { data: { guid: space } }, user: { data: user } },
})

for (const store of stores()) {
  describe(`users and roles [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let org: string
    let space: string
    let bob: string
    /** Role events the changes below must have written, in order. */
    const expected: { type: string; actee: string; actee_name: string; space: string; org: string; request: unknown }[] = []

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      ;({ orgGuid: org, spaceGuid: space } = await createOrgAndSpace(admin, 'roles-org', 'roles-space'))
    })
    after(() => server.stop())

    it('registers UAA users with Cloud Controller and shows them', async () => {
      bob = await uaaUser(admin, 'bob')
      const created = expectOk(await admin.post('/v3/users', { guid: bob, metadata: { labels: { team: 'a' } } }), 201).body
      assert.deepEqual(Object.keys(created), ['guid', 'created_at', 'updated_at', 'username', 'presentation_name', 'origin', 'metadata', 'links'])
      assert.equal(created.guid, bob)
      assert.equal(created.username, 'bob')
      assert.equal(created.presentation_name, 'bob')
      assert.equal(created.origin, 'uaa')
      assert.deepEqual(created.metadata, { labels: { team: 'a' }, annotations: {} })
      assert.deepEqual(created.links, { self: { href: `${server.url}/v3/users/${bob}` } })
      assert.deepEqual(expectOk(await admin.get(`/v3/users/${bob}`)).body, created)

      unprocessable(await admin.post('/v3/users', { guid: bob }), `User with guid '${bob}' already exists.`)
      const lara = expectOk(await admin.post('/v3/users', { username: 'lara', origin: 'ldap' }), 201).body
      assert.equal(lara.username, 'lara')
      assert.equal(lara.origin, 'ldap')
      unprocessable(await admin.post('/v3/users', { username: 'lara', origin: 'ldap' }), "User with username 'lara' and origin 'ldap' already exists.")
      unprocessable(await admin.post('/v3/users', { username: 'x', origin: 'uaa' }), "Origin cannot be 'uaa' when creating a user by username")
      unprocessable(await admin.post('/v3/users', {}), "Guid or 'username' and 'origin' must be provided")
      unprocessable(await admin.post('/v3/users', { guid: 'g', username: 'u' }), "Username cannot be provided with 'guid'")
      unprocessable(await admin.post('/v3/users', { username: 'u' }), "Username can only be provided together with 'origin'")
      unprocessable(await admin.post('/v3/users', { guid: 'g', shoe: 9 }), "Unknown field(s): 'shoe'")

      // A guid UAA does not know (a client id, say) is registered with no username.
      const client = expectOk(await admin.post('/v3/users', { guid: 'ci-client' }), 201).body
      assert.equal(client.username, null)
      assert.equal(client.origin, null)
      assert.equal(client.presentation_name, 'ci-client')

      const guidsOf = async (query: string) =>
        (expectOk(await admin.get(`/v3/users?${query}`)).body.resources as { guid: string }[]).map((u) => u.guid)
      assert.deepEqual(await guidsOf('usernames=bob'), [bob])
      assert.deepEqual(await guidsOf('origins=ldap'), [lara.guid])
      assert.deepEqual(await guidsOf(`guids=${bob},ci-client&order_by=created_at`), [bob, 'ci-client'])
      assert.deepEqual(await guidsOf('label_selector=team=a'), [bob])

      const patched = expectOk(await admin.patch(`/v3/users/${bob}`, { metadata: { annotations: { desk: '4' } } })).body
      assert.deepEqual(patched.metadata, { labels: { team: 'a' }, annotations: { desk: '4' } })
      cfError(await admin.get('/v3/users/no-such-user'), 404, 'ResourceNotFound', 10010, 'User not found')
    })

    it('assigns org and space roles by guid and by username and origin', async () => {
      const body = orgRole('organization_user', org, { username: 'bob', origin: 'uaa' })
      const orgUser = expectOk(await admin.post('/v3/roles', body), 201).body
      expected.push({ type: 'audit.user.organization_user_add', actee: bob, actee_name: 'bob', space: '', org, request: body })
      assert.equal(orgUser.type, 'organization_user')
      assert.deepEqual(orgUser.relationships, { user: { data: { guid: bob } }, organization: { data: { guid: org } }, space: { data: null } })
      assert.deepEqual(orgUser.links, {
        self: { href: `${server.url}/v3/roles/${orgUser.guid}` },
        user: { href: `${server.url}/v3/users/${bob}` },
        organization: { href: `${server.url}/v3/organizations/${org}` },
      })

      const devBody = spaceRole('space_developer', space, { guid: bob })
      const dev = expectOk(await admin.post('/v3/roles', devBody), 201).body
      expected.push({ type: 'audit.user.space_developer_add', actee: bob, actee_name: 'bob', space, org, request: devBody })
      assert.deepEqual(dev.relationships, { user: { data: { guid: bob } }, space: { data: { guid: space } }, organization: { data: null } })
      assert.deepEqual(dev.links, {
        self: { href: `${server.url}/v3/roles/${dev.guid}` },
        user: { href: `${server.url}/v3/users/${bob}` },
        space: { href: `${server.url}/v3/spaces/${space}` },
      })

      const mgrBody = orgRole('organization_manager', org, { username: 'bob' })
      expectOk(await admin.post('/v3/roles', mgrBody), 201)
      expected.push({ type: 'audit.user.organization_manager_add', actee: bob, actee_name: 'bob', space: '', org, request: mgrBody })

      const inOrg = expectOk(await admin.get(`/v3/roles?organization_guids=${org}&include=user&order_by=created_at`)).body
      assert.deepEqual(
        inOrg.resources.filter((r: { relationships: { user: { data: { guid: string } } } }) => r.relationships.user.data.guid === bob).map((r: { type: string }) => r.type),
        ['organization_user', 'organization_manager'],
      )
      const includedBob = inOrg.included.users.find((u: { guid: string }) => u.guid === bob)
      assert.equal(includedBob.presentation_name, 'bob')
      assert.equal(includedBob.origin, 'uaa')

      const inSpace = expectOk(await admin.get(`/v3/roles?space_guids=${space}`)).body
      assert.ok(inSpace.resources.every((r: { relationships: { space: { data: { guid: string } } } }) => r.relationships.space.data.guid === space))
      assert.ok(inSpace.resources.some((r: { guid: string }) => r.guid === dev.guid))
      const typed = expectOk(await admin.get(`/v3/roles?types=space_developer&user_guids=${bob}`)).body
      assert.deepEqual(typed.resources.map((r: { guid: string }) => r.guid), [dev.guid])

      const shown = expectOk(await admin.get(`/v3/roles/${dev.guid}?include=user,space`)).body
      assert.equal(shown.guid, dev.guid)
      assert.deepEqual(shown.included.users.map((u: { guid: string }) => u.guid), [bob])
      assert.deepEqual(shown.included.spaces.map((s: { guid: string }) => s.guid), [space])
      assert.equal(expectOk(await admin.get(`/v3/roles/${orgUser.guid}?include=organization`)).body.included.organizations[0].name, 'roles-org')
      assert.equal((await admin.get('/v3/roles?include=hats')).status, 400)
      cfError(await admin.get(`/v3/roles/${crypto.randomUUID()}`), 404, 'ResourceNotFound', 10010, 'Role not found')
    })

    it("refuses duplicate roles with CC's texts and writes nothing", async () => {
      unprocessable(await admin.post('/v3/roles', orgRole('organization_user', org, { guid: bob })), "User 'bob' already has 'organization_user' role in organization 'roles-org'.")
      unprocessable(await admin.post('/v3/roles', spaceRole('space_developer', space, { username: 'bob', origin: 'uaa' })), "User 'bob' already has 'space_developer' role in space 'roles-space'.")
      const clientBody = orgRole('organization_user', org, { guid: 'ci-client' })
      expectOk(await admin.post('/v3/roles', clientBody), 201)
      expected.push({ type: 'audit.user.organization_user_add', actee: 'ci-client', actee_name: '', space: '', org, request: clientBody })
      unprocessable(await admin.post('/v3/roles', clientBody), "User 'ci-client' already has 'organization_user' role in organization 'roles-org'.")
      const bobs = expectOk(await admin.get(`/v3/roles?user_guids=${bob}`)).body
      assert.equal(bobs.pagination.total_results, 3)
    })

    it('refuses a space role to a user who is not an organization_user of its org', async () => {
      const carol = (await createUser(admin, 'carol')).guid
      const msg = "Users cannot be assigned roles in a space if they do not have a role in that space's organization."
      unprocessable(await admin.post('/v3/roles', spaceRole('space_auditor', space, { guid: carol })), msg)
      const auditorBody = orgRole('organization_auditor', org, { guid: carol })
      expectOk(await admin.post('/v3/roles', auditorBody), 201)
      expected.push({ type: 'audit.user.organization_auditor_add', actee: carol, actee_name: 'carol', space: '', org, request: auditorBody })
      // CC's Space#in_organization? asks for organization_user specifically.
      unprocessable(await admin.post('/v3/roles', spaceRole('space_auditor', space, { guid: carol })), msg)
      unprocessable(await admin.post('/v3/roles', spaceRole('space_auditor', space, { username: 'nobody', origin: 'uaa' })), msg)
      unprocessable(await admin.post('/v3/roles', spaceRole('space_auditor', space, { guid: crypto.randomUUID() })), msg)
      unprocessable(await admin.post('/v3/roles', orgRole('organization_user', org, { username: 'nobody', origin: 'uaa' })), "No user exists with the username 'nobody' and origin 'uaa'.")
      unprocessable(await admin.post('/v3/roles', orgRole('organization_user', org, { username: 'nobody' })), "No user exists with the username 'nobody'.")
      const carols = expectOk(await admin.get(`/v3/roles?user_guids=${carol}`)).body
      assert.deepEqual(carols.resources.map((r: { type: string }) => r.type), ['organization_auditor'])
    })

    it('validates role requests before looking anything up', async () => {
      const bogus = await admin.post('/v3/roles', { ...orgRole('organization_user', org, { guid: bob }), type: 'org_king' })
      assert.equal(bogus.status, 422)
      assert.match(bogus.body.errors[0].detail, /^Type must be one of the allowed types \["organization_user", /)
      const both = await admin.post('/v3/roles', {
        type: 'organization_user',
        relationships: { organization: { data: { guid: org } }, space: { data: { guid: space } }, user: { data: { guid: bob } } },
      })
      assert.equal(both.status, 422)
      assert.equal((await admin.post('/v3/roles', { type: 'space_developer', relationships: { user: { data: { guid: bob } } } })).status, 422)
      assert.equal((await admin.post('/v3/roles', orgRole('space_developer', org, { guid: bob }))).status, 422)
      assert.equal((await admin.post('/v3/roles', spaceRole('organization_user', space, { guid: bob }))).status, 422)
      unprocessable(await admin.post('/v3/roles', { ...orgRole('organization_user', org, { guid: bob }), why: 1 }), "Unknown field(s): 'why'")
      unprocessable(await admin.post('/v3/roles', spaceRole('space_developer', crypto.randomUUID(), { guid: bob })), 'Invalid space. Ensure that the space exists and you have access to it.')
      unprocessable(await admin.post('/v3/roles', orgRole('organization_user', crypto.randomUUID(), { guid: bob })), 'Invalid organization. Ensure that the organization exists and you have access to it.')
    })

    it('keeps organization_user while the user has space roles, and removes roles asynchronously', async () => {
      const roles = expectOk(await admin.get(`/v3/roles?user_guids=${bob}`)).body.resources as { guid: string; type: string }[]
      const orgUser = roles.find((r) => r.type === 'organization_user')!
      const dev = roles.find((r) => r.type === 'space_developer')!
      unprocessable(await admin.delete(`/v3/roles/${orgUser.guid}`), 'Cannot delete organization_user role while user has roles in spaces in that organization.')

      const del = await admin.delete(`/v3/roles/${dev.guid}`)
      assert.equal(del.status, 202)
      assert.match(del.headers.get('location')!, new RegExp(`^${server.url}/v3/jobs/`))
      const job = (await admin.waitForJob(del.headers.get('location')!)).body
      assert.equal(job.operation, 'role.delete')
      assert.equal(job.state, 'COMPLETE')
      expected.push({ type: 'audit.user.space_developer_remove', actee: bob, actee_name: 'bob', space, org, request: {} })
      cfError(await admin.get(`/v3/roles/${dev.guid}`), 404, 'ResourceNotFound', 10010, 'Role not found')

      const delOrgUser = await admin.delete(`/v3/roles/${orgUser.guid}`)
      assert.equal(delOrgUser.status, 202)
      assert.equal((await admin.waitForJob(delOrgUser.headers.get('location')!)).body.state, 'COMPLETE')
      expected.push({ type: 'audit.user.organization_user_remove', actee: bob, actee_name: 'bob', space: '', org, request: {} })
    })

    it('deletes a user and its roles asynchronously', async () => {
      const dave = (await createUser(admin, 'dave')).guid
      const body = orgRole('organization_user', org, { guid: dave })
      expectOk(await admin.post('/v3/roles', body), 201)
      expected.push({ type: 'audit.user.organization_user_add', actee: dave, actee_name: 'dave', space: '', org, request: body })
      const sBody = spaceRole('space_supporter', space, { guid: dave })
      expectOk(await admin.post('/v3/roles', sBody), 201)
      expected.push({ type: 'audit.user.space_supporter_add', actee: dave, actee_name: 'dave', space, org, request: sBody })

      const del = await admin.delete(`/v3/users/${dave}`)
      assert.equal(del.status, 202)
      const job = (await admin.waitForJob(del.headers.get('location')!)).body
      assert.equal(job.operation, 'user.delete')
      assert.equal(job.state, 'COMPLETE')
      // Space roles go first, so organization_user is never removed while a space role remains.
      expected.push({ type: 'audit.user.space_supporter_remove', actee: dave, actee_name: 'dave', space, org, request: {} })
      expected.push({ type: 'audit.user.organization_user_remove', actee: dave, actee_name: 'dave', space: '', org, request: {} })
      cfError(await admin.get(`/v3/users/${dave}`), 404, 'ResourceNotFound', 10010, 'User not found')
      assert.equal(expectOk(await admin.get(`/v3/roles?user_guids=${dave}`)).body.pagination.total_results, 0)
    })

    it('shows a user without roles only itself', async () => {
      const erin = await createUser(admin, 'erin')
      const seen = expectOk(await erin.api.get('/v3/users')).body.resources.map((u: { guid: string }) => u.guid)
      assert.deepEqual(seen, [erin.guid])
      cfError(await erin.api.get(`/v3/users/${bob}`), 404, 'ResourceNotFound', 10010, 'User not found')
      assert.equal(expectOk(await erin.api.get('/v3/roles')).body.pagination.total_results, 0)
    })

    it('lets only admins change anything in a suspended organization', async () => {
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'frozen-org', 'frozen-space')
      const mona = await createUser(admin, 'mona')
      const body = orgRole('organization_manager', orgGuid, { guid: mona.guid })
      expectOk(await admin.post('/v3/roles', body), 201)
      expected.push({ type: 'audit.user.organization_manager_add', actee: mona.guid, actee_name: 'mona', space: '', org: orgGuid, request: body })
      assert.equal(expectOk(await admin.patch(`/v3/organizations/${orgGuid}`, { suspended: true })).body.suspended, true)

      const suspended = (r: Reply) => cfError(r, 403, 'OrgSuspended', 10017, 'The organization is suspended')
      suspended(await mona.api.patch(`/v3/organizations/${orgGuid}`, { name: 'thawed' }))
      suspended(await mona.api.post('/v3/spaces', { name: 'more', relationships: { organization: { data: { guid: orgGuid } } } }))
      suspended(await mona.api.patch(`/v3/spaces/${spaceGuid}`, { name: 'renamed' }))
      suspended(await mona.api.delete(`/v3/spaces/${spaceGuid}`))
      suspended(await mona.api.post('/v3/roles', orgRole('organization_auditor', orgGuid, { guid: bob })))
      expectOk(await mona.api.get(`/v3/organizations/${orgGuid}`))
      expectOk(await mona.api.get(`/v3/spaces/${spaceGuid}`))
      expectOk(await admin.patch(`/v3/spaces/${spaceGuid}`, { name: 'renamed-by-admin' }))

      expectOk(await admin.patch(`/v3/organizations/${orgGuid}`, { suspended: false }))
      expectOk(await mona.api.patch(`/v3/spaces/${spaceGuid}`, { name: 'renamed' }))
    })

    it('wrote one audit event per role change, with the request as sent', async () => {
      const { events, problems } = await withStore(server, async (q) => {
        const events = await readEvents(q)
        return { events, problems: await ledgerProblems(q, events) }
      })
      assert.deepEqual(problems, [])
      const roleEvents = events.filter((e) => e.type.startsWith('audit.user.'))
      assert.deepEqual(
        roleEvents.map((e) => ({ type: e.type, actee: e.actee, actee_name: e.actee_name, space: e.space_guid, org: e.organization_guid, request: e.metadata.request })),
        expected,
      )
      for (const e of roleEvents) assert.equal(e.actee_type, 'user')
    })
  })

  describe(`role-by-endpoint permissions [${store}]`, () => {
    // CC's rules (lib/cloud_controller/permissions.rb and the v3 controllers): a caller who cannot
    // see a resource gets 404, one who can see but not change it 403. Every actor below holds its
    // role in its own world: org :org, space :space, and a target user :user who is an
    // organization_user and organization_auditor (:orgRole) of :org and space_developer
    // (:spaceRole) of :space. Space-role actors are also organization_users, as CC requires.
    const ROLES = [
      'admin',
      'admin_read_only',
      'global_auditor',
      'org_manager',
      'org_auditor',
      'org_billing_manager',
      'org_user',
      'space_manager',
      'space_developer',
      'space_auditor',
      'space_supporter',
      'no_role',
    ] as const
    type Role = (typeof ROLES)[number]
    type World = Record<'role' | 'org' | 'space' | 'user' | 'orgRole' | 'spaceRole' | 'job', string>
    type Row = readonly [method: string, path: string, body: ((w: World) => unknown) | null, statuses: readonly number[]]

    const uniqueName = (w: World) => `${w.role}-${crypto.randomUUID().slice(0, 8)}`
    const newOrg = (w: World) => ({ name: uniqueName(w) })
    const newSpace = (w: World) => ({ name: uniqueName(w), relationships: { organization: { data: { guid: w.org } } } })
    const labels = () => ({ metadata: { labels: { touched: 'yes' } } })
    const newCcUser = () => ({ guid: crypto.randomUUID() })
    const newOrgRole = (w: World) => orgRole('organization_billing_manager', w.org, { guid: w.user })
    const newSpaceRole = (w: World) => spaceRole('space_auditor', w.space, { guid: w.user })

    // prettier-ignore
    const TABLE: readonly Row[] = [
      //                                                    adm  aro  ga   om   oa   obm  ou   sm   sd   sa   ss   none
      ['GET',    '/v3/organizations',        null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
      ['GET',    '/v3/organizations/:org',   null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404]],
      ['POST',   '/v3/organizations',        newOrg,       [201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403]],
      ['PATCH',  '/v3/organizations/:org',   labels,       [200, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 404]],
      ['GET',    '/v3/spaces',               null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
      ['GET',    '/v3/spaces/:space',        null,         [200, 200, 200, 200, 404, 404, 404, 200, 200, 200, 200, 404]],
      ['POST',   '/v3/spaces',               newSpace,     [201, 403, 403, 201, 403, 403, 403, 403, 403, 403, 403, 422]],
      ['PATCH',  '/v3/spaces/:space',        labels,       [200, 403, 403, 200, 404, 404, 404, 200, 403, 403, 403, 404]],
      ['GET',    '/v3/users',                null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
      ['GET',    '/v3/users/:user',          null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404]],
      ['POST',   '/v3/users',                newCcUser,    [201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403]],
      ['PATCH',  '/v3/users/:user',          labels,       [200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404]],
      ['GET',    '/v3/roles',                null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
      ['GET',    '/v3/roles/:orgRole',       null,         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404]],
      ['GET',    '/v3/roles/:spaceRole',     null,         [200, 200, 200, 200, 404, 404, 404, 200, 200, 200, 200, 404]],
      ['POST',   '/v3/roles',                newOrgRole,   [201, 403, 403, 201, 403, 403, 403, 403, 403, 403, 403, 403]],
      ['POST',   '/v3/roles',                newSpaceRole, [201, 403, 403, 201, 403, 403, 403, 201, 403, 403, 403, 403]],
      ['GET',    '/v3/jobs/:job',            null,         [200, 200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404]],
      // Deletes last, narrowest first; a 202 is followed by polling the job as the same caller.
      ['DELETE', '/v3/roles/:spaceRole',     null,         [202, 403, 403, 202, 404, 404, 404, 202, 403, 403, 403, 404]],
      ['DELETE', '/v3/roles/:orgRole',       null,         [202, 403, 403, 202, 403, 403, 403, 403, 403, 403, 403, 404]],
      ['DELETE', '/v3/users/:user',          null,         [202, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404]],
      ['DELETE', '/v3/spaces/:space',        null,         [202, 403, 403, 202, 404, 404, 404, 403, 403, 403, 403, 404]],
      ['DELETE', '/v3/organizations/:org',   null,         [202, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404]],
    ]

    /** What each caller finds in the unfiltered lists (listed guid → seen?). */
    // prettier-ignore
    const LISTS: readonly (readonly [path: string, item: keyof World, seen: readonly (0 | 1)[]])[] = [
      //                                           adm aro ga om oa obm ou sm sd sa ss none
      ['/v3/organizations', 'org',                 [1,  1,  1, 1, 1, 1,  1, 1, 1, 1, 1, 0]],
      ['/v3/spaces',        'space',               [1,  1,  1, 1, 0, 0,  0, 1, 1, 1, 1, 0]],
      ['/v3/users',         'user',                [1,  1,  1, 1, 1, 1,  1, 1, 1, 1, 1, 0]],
      ['/v3/roles',         'orgRole',             [1,  1,  1, 1, 1, 1,  1, 1, 1, 1, 1, 0]],
      ['/v3/roles',         'spaceRole',           [1,  1,  1, 1, 0, 0,  0, 1, 1, 1, 1, 0]],
    ]

    let server: TestServer
    let admin: Api
    let adminJob: string

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const o = expectOk(await admin.post('/v3/organizations', { name: 'for-a-job' }), 201)
      const del = await admin.delete(`/v3/organizations/${o.body.guid}`)
      adminJob = del.headers.get('location')!.split('/').pop()!
      await admin.waitForJob(del.headers.get('location')!)
    })
    after(() => server.stop())

    /** The caller for a role, holding that role in a fresh world. */
    async function setUp(role: Role): Promise<{ world: World; api: Api }> {
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, `world-${role}`, 'space')
      const target = (await createUser(admin, `target-${role}`)).guid
      await grant(admin, 'organization_user', target, { org: orgGuid })
      await grant(admin, 'organization_auditor', target, { org: orgGuid })
      await grant(admin, 'space_developer', target, { space: spaceGuid })
      const targetRoles = expectOk(await admin.get(`/v3/roles?user_guids=${target}`)).body.resources as { guid: string; type: string }[]
      const world: World = {
        role,
        org: orgGuid,
        space: spaceGuid,
        user: target,
        orgRole: targetRoles.find((r) => r.type === 'organization_auditor')!.guid,
        spaceRole: targetRoles.find((r) => r.type === 'space_developer')!.guid,
        job: adminJob,
      }
      if (role === 'admin') return { world, api: admin }
      const actor = await createUser(admin, `actor-${role}`)
      if (role === 'admin_read_only' || role === 'global_auditor') {
        expectOk(await admin.post(`/Groups/cloud_controller.${role}/members`, { value: actor.guid }), 201)
      } else if (role.startsWith('org_')) {
        const type = role === 'org_billing_manager' ? 'organization_billing_manager' : role.replace(/^org_/, 'organization_')
        await grant(admin, type, actor.guid, { org: orgGuid })
      } else if (role.startsWith('space_')) {
        await grant(admin, 'organization_user', actor.guid, { org: orgGuid })
        await grant(admin, role, actor.guid, { space: spaceGuid })
      }
      // Log in again so the token carries the scopes of new group memberships.
      return { world, api: await admin.login(`actor-${role}`, `pw-actor-${role}`) }
    }

    ROLES.forEach((role, column) => {
      it(`answers ${role} as CC does on every endpoint`, async () => {
        const { world, api } = await setUp(role)
        const mismatches: string[] = []
        for (const [path, item, seen] of LISTS) {
          const found = (await api.get(`${path}?per_page=5000`)).body.resources.some((r: { guid: string }) => r.guid === world[item])
          if (found !== (seen[column] === 1)) mismatches.push(`GET ${path} ${found ? 'shows' : 'hides'} :${item}`)
        }
        for (const [method, template, body, statuses] of TABLE) {
          const path = template.replace(/:(\w+)/g, (_, k: keyof World) => world[k])
          const r = await api.request(method, path, body ? body(world) : undefined)
          const want = statuses[column]!
          if (r.status !== want) {
            mismatches.push(`${method} ${template}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`)
            continue
          }
          if (r.status >= 400) {
            const title = { 403: 'CF-NotAuthorized', 404: 'CF-ResourceNotFound', 422: 'CF-UnprocessableEntity' }[r.status]
            if (r.body.errors?.[0]?.title !== title) mismatches.push(`${method} ${template}: error ${JSON.stringify(r.body)}`)
          }
          if (r.status === 202) {
            const job = await api.waitForJob(r.headers.get('location')!)
            if (job.status !== 200 || job.body.state !== 'COMPLETE') mismatches.push(`${method} ${template}: job ${JSON.stringify(job.body)}`)
          }
        }
        assert.deepEqual(mismatches, [])
      })
    })
  })
}

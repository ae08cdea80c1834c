// /openapi.json is as strict as the server where a schema can say it (docs/api-version.md): for
// each kind of rule, a value the document refuses is one the server refuses, and a value the
// document allows is one the server takes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Api, createOrgAndSpace, createUser, expectOk, type Reply } from './support/client.ts'
import { pushApp, zipOf } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

type Schema = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
type Doc = { paths: Record<string, Record<string, Schema>> }

for (const store of stores()) {
  describe(`openapi strictness [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let doc: Doc
    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      doc = expectOk(await admin.get('/openapi.json')).body
    })
    after(() => server?.stop())

    const param = (path: string, name: string, method = 'get'): Schema => {
      const p = doc.paths[path]?.[method]?.parameters.find((x: Schema) => x.name === name)
      assert.ok(p, `${method} ${path} lists ${name}`)
      return p
    }
    const matches = (schema: Schema, value: string) => new RegExp(schema.pattern).test(value)

    // ajv (fastify's JSON Schema validator) reads the document as a JSON Schema 2020-12 validator would.
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    const bodySchema = (path: string, method = 'post', type = 'application/json'): Schema => {
      const schema = doc.paths[path]?.[method]?.requestBody?.content?.[type]?.schema
      assert.ok(schema, `${method} ${path} documents a ${type} body`)
      return schema
    }
    const allows = (schema: Schema, value: unknown) => ajv.validate(schema, value)
    /** The document refuses `body` and the server answers it with CF's 422 and `detail`. */
    async function refused(
      path: string,
      body: Record<string, unknown>,
      detail: string,
      send: () => Promise<Reply> = () => admin.post(path, body),
      method = 'post',
    ) {
      assert.ok(!allows(bodySchema(path, method), body), `the document refuses ${JSON.stringify(body)}`)
      const r = await send()
      assert.equal(r.status, 422, JSON.stringify(r.body))
      assert.equal(r.body.errors[0].detail, detail)
    }
    /** The document allows `body` and the server takes it. */
    async function taken(path: string, body: Record<string, unknown>, send: () => Promise<Reply>, status = 201, method = 'post'): Promise<Reply> {
      assert.ok(allows(bodySchema(path, method), body), `the document allows ${JSON.stringify(body)}: ${ajv.errorsText()}`)
      return expectOk(await send(), status)
    }

    /** The document's pattern and the server agree on each value: allowed ⇔ 200. */
    async function agree(path: string, name: string, values: { ok: readonly string[]; bad: readonly string[] }) {
      const schema = param(path, name).schema
      for (const v of values.ok) {
        assert.ok(matches(schema, v), `${name}=${v} matches the document`)
        expectOk(await admin.get(`${path}?${name}=${encodeURIComponent(v)}`))
      }
      for (const v of values.bad) {
        assert.ok(!matches(schema, v), `${name}=${v} does not match the document`)
        assert.equal((await admin.get(`${path}?${name}=${encodeURIComponent(v)}`)).status, 400, `${name}=${v}`)
      }
    }

    it('label_selector states its grammar', async () => {
      await agree('/v3/apps', 'label_selector', { ok: ['env=prod', 'a!=b, c in (d,e)', '!x', 'k notin (v)', 'x/y.z'], bad: ['', '=x', 'a b', 'a in b'] })
    })

    it('task states and sequence ids are their lists', async () => {
      await agree('/v3/tasks', 'states', { ok: ['RUNNING', 'FAILED,SUCCEEDED'], bad: ['running', 'RUNNING,'] })
      await agree('/ledger/v1/tasks', 'sequence_ids', { ok: ['1', '2,3'], bad: ['x', '-1', '1.5'] })
    })

    it('the ledger queries state their ranges and required parameters', async () => {
      const days = param('/ledger/v1/overview', 'days').schema
      assert.deepEqual([days.type, days.minimum, days.maximum], ['integer', 1, 366])
      assert.equal((await admin.get('/ledger/v1/overview?days=0')).status, 400)
      const lines = param('/ledger/v1/tasks/{guid}/trail', 'output_lines').schema
      assert.deepEqual([lines.type, lines.minimum, lines.maximum], ['integer', 0, 10000])
      assert.equal(param('/ledger/v1/log/consistency', 'first').required, true)
      assert.equal((await admin.get('/ledger/v1/log/consistency')).status, 400)
    })

    it('manifests are YAML bodies', () => {
      for (const path of ['/v3/spaces/{guid}/actions/apply_manifest', '/v3/spaces/{guid}/manifest_diff']) {
        const content = doc.paths[path]!.post!.requestBody.content
        assert.deepEqual(Object.keys(content), ['application/x-yaml'])
        assert.deepEqual(content['application/x-yaml'].schema.required, ['applications'])
      }
    })

    it('the token form states each grant with the fields it needs', async () => {
      const content = doc.paths['/oauth/token']!.post!.requestBody.content
      assert.deepEqual(Object.keys(content), ['application/x-www-form-urlencoded'])
      const grants = content['application/x-www-form-urlencoded'].schema.oneOf as Schema[]
      const password = grants.find((g) => g.properties.grant_type.const === 'password')!
      assert.deepEqual([...password.required].sort(), ['grant_type', 'password', 'username'])
      const form = (body: Record<string, string>) =>
        admin.request('POST', '/oauth/token', new URLSearchParams(body).toString(), {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
        })
      assert.equal((await form({})).status, 400)
      assert.equal((await form({ grant_type: 'password', username: 'admin' })).status, 400)
      assert.equal((await form({ grant_type: 'implicit' })).status, 400)
    })

    it('SCIM and client bodies are documented', async () => {
      assert.deepEqual(doc.paths['/Users']!.post!.requestBody.content['application/json'].schema.required, ['userName'])
      assert.deepEqual(doc.paths['/oauth/clients']!.post!.requestBody.content['application/json'].schema.required, ['client_id', 'client_secret'])
      assert.equal((await admin.post('/Users', { userName: '' })).status, 400)
    })

    it('integers checked by hand state their type and range; values typed unknown are JSON under the text rule', async () => {
      const scale = doc.paths['/v3/processes/{guid}/actions/scale']!.post!.requestBody.content['application/json'].schema
      assert.deepEqual([scale.properties.instances.type, scale.properties.instances.minimum, scale.properties.instances.maximum], ['integer', 0, 2147483647])
      const task = doc.paths['/v3/apps/{guid}/tasks']!.post!.requestBody.content['application/json'].schema
      assert.equal(task.properties.memory_in_mb.type, 'integer')
      assert.equal(task.properties.memory_in_mb.exclusiveMinimum, 0)
      const data = doc.paths['/v3/processes/{guid}']!.patch!.requestBody.content['application/json'].schema.properties.health_check.properties.data
      assert.equal(data.propertyNames.pattern, '^[^\\u0000]*$')
      const kinds = (data.additionalProperties.anyOf as Schema[]).map((s) => s.type)
      assert.deepEqual(kinds, ['null', 'boolean', 'number', 'string', 'array', 'object'])
      assert.equal(data.additionalProperties.anyOf[2].maximum, Number.MAX_SAFE_INTEGER)
    })

    it('a role names its user one way and the one organization or space its type needs', async () => {
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'openapi-roles', 'openapi-roles-space')
      const user = await createUser(admin, 'openapi-role-user')
      const rel = (extra: Record<string, unknown>, data: Record<string, unknown> = { guid: user.guid }) => ({ user: { data }, ...extra })
      const org = { organization: { data: { guid: orgGuid } } }
      const space = { space: { data: { guid: spaceGuid } } }
      const post = (body: Record<string, unknown>) => () => admin.post('/v3/roles', body)
      for (const [body, detail] of [
        [{ type: 'space_developer', relationships: rel({ ...org, ...space }) }, 'Relationships cannot specify both an organization and a space.'],
        [{ type: 'organization_user', relationships: rel({}) }, 'Relationships must specify either a space or an organization.'],
        [{ type: 'space_developer', relationships: rel(org) }, "Organization cannot be provided with the space role type: 'space_developer'."],
        [{ type: 'organization_auditor', relationships: rel(space) }, "Space cannot be provided with the organization role type: 'organization_auditor'."],
        [{ type: 'organization_user', relationships: rel(org, { guid: user.guid, username: 'openapi-role-user' }) }, 'Username cannot be specified when identifying user by guid'],
        [{ type: 'organization_user', relationships: rel(org, { origin: 'uaa' }) }, 'User must have a username or guid specified'],
      ] as const) {
        await refused('/v3/roles', body, detail, post(body))
      }
      const orgRole = { type: 'organization_user', relationships: rel(org) }
      await taken('/v3/roles', orgRole, post(orgRole))
      const spaceRole = { type: 'space_developer', relationships: rel(space, { username: 'openapi-role-user', origin: 'uaa' }) }
      await taken('/v3/roles', spaceRole, post(spaceRole))
    })

    it('a user is created by guid alone or by username and a non-uaa origin', async () => {
      for (const [body, detail] of [
        [{ guid: 'openapi-u0', username: 'x' }, "Username cannot be provided with 'guid'"],
        [{ guid: 'openapi-u0', origin: 'ldap' }, "Origin cannot be provided with 'guid'"],
        [{}, "Guid or 'username' and 'origin' must be provided"],
        [{ username: 'x' }, "Username can only be provided together with 'origin'"],
        [{ origin: 'ldap' }, "Origin can only be provided together with 'username'"],
        [{ username: 'x', origin: 'uaa' }, "Origin cannot be 'uaa' when creating a user by username"],
      ] as const) {
        await refused('/v3/users', body, detail)
      }
      for (const body of [{ guid: 'openapi-u1' }, { username: 'openapi-ldap', origin: 'ldap' }]) await taken('/v3/users', body, () => admin.post('/v3/users', body))
    })

    it('a task has a command or a template', async () => {
      const { spaceGuid } = await createOrgAndSpace(admin, 'openapi-tasks', 'openapi-tasks-space')
      const app = await pushApp(admin, spaceGuid, 'openapi-task-app')
      for (const body of [{}, { name: 'only-a-name' }]) {
        await refused('/v3/apps/{guid}/tasks', body, 'Command No command or template provided', () => admin.post(`/v3/apps/${app}/tasks`, body))
      }
      const body = { command: 'echo hi' }
      await taken('/v3/apps/{guid}/tasks', body, () => admin.post(`/v3/apps/${app}/tasks`, body), 202)
    })

    it('a package upload is a multipart form with the file bits', async () => {
      const path = '/v3/packages/{guid}/upload'
      const content = doc.paths[path]!.post!.requestBody.content
      assert.deepEqual(Object.keys(content), ['multipart/form-data'])
      const form = content['multipart/form-data']
      assert.equal(form.schema.properties.bits.contentMediaType, 'application/octet-stream')
      assert.equal(form.schema.properties.bits.pattern, undefined, 'a file is not under the text rule')
      const { spaceGuid } = await createOrgAndSpace(admin, 'openapi-upload', 'openapi-upload-space')
      const app = expectOk(await admin.post('/v3/apps', { name: 'openapi-upload-app', relationships: { space: { data: { guid: spaceGuid } } } }), 201)
      const pkg = expectOk(await admin.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app.body.guid } } } }), 201)
      const send = async (parts: Record<string, string | Blob>) => {
        const f = new FormData()
        for (const [k, v] of Object.entries(parts)) {
          if (typeof v === 'string') f.append(k, v)
          else f.append(k, v, 'package.zip')
        }
        const res = await fetch(`${server.url}/v3/packages/${pkg.body.guid}/upload`, { method: 'POST', headers: { authorization: `bearer ${admin.token}` }, body: f })
        return { status: res.status, body: await res.json(), headers: res.headers } as Reply
      }
      for (const fields of [{}, { resources: '[]' }] as Record<string, string>[]) {
        assert.ok(!allows(form.schema, fields), `the document refuses ${JSON.stringify(fields)}`)
        const r = await send(fields)
        assert.equal(r.status, 422)
        assert.equal(r.body.errors[0].detail, 'Upload must include either resources or bits')
      }
      assert.ok(allows(form.schema, { bits: 'PK…', resources: '[]' }))
      expectOk(await send({ resources: '[]', bits: new Blob([new Uint8Array(await zipOf({ 'run.sh': 'echo hi\n' }))]) }))
    })

    it('quota bodies: a name not only blanks where CC wants one, the relationships they take, at least one guid to apply', async () => {
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'openapi-quotas', 'openapi-quotas-space')
      const other = await createOrgAndSpace(admin, 'openapi-quotas-2', 'openapi-quotas-space-2')
      const orgs = '/v3/organization_quotas'
      const post = (path: string, body: Record<string, unknown>) => () => admin.post(path, body)
      for (const body of [{}, { name: '   ' }, { name: '\u3000\t\ufeff' }]) await refused(orgs, body, "Name can't be blank", post(orgs, body))
      const orgQuota = {
        name: 'openapi-org-quota',
        apps: { total_memory_in_mb: 1024, log_rate_limit_in_bytes_per_second: null },
        services: { paid_services_allowed: true },
        relationships: { organizations: { data: [{ guid: orgGuid }] } },
      }
      const q = (await taken(orgs, orgQuota, post(orgs, orgQuota))).body
      // The update takes a name of blanks (CC validates its presence only on create).
      const blankName = { name: ' ' }
      await taken('/v3/organization_quotas/{guid}', blankName, () => admin.patch(`${orgs}/${q.guid}`, blankName), 200, 'patch')

      const apply = '/v3/organization_quotas/{guid}/relationships/organizations'
      const applyTo = (body: Record<string, unknown>) => () => admin.post(`${orgs}/${q.guid}/relationships/organizations`, body)
      await refused(apply, {}, "Data can't be blank, Data must be an array", applyTo({}))
      await refused(apply, { data: [] }, "Data can't be blank", applyTo({ data: [] }))
      await taken(apply, { data: [{ guid: other.orgGuid }] }, applyTo({ data: [{ guid: other.orgGuid }] }), 200)

      const spaces = '/v3/space_quotas'
      const organization = { data: { guid: orgGuid } }
      await refused(spaces, { name: 'openapi-sq' }, "Relationships 'relationships' is not a hash", post(spaces, { name: 'openapi-sq' }))
      const blank = { name: '\n', relationships: { organization } }
      await refused(spaces, blank, "Name can't be blank", post(spaces, blank))
      const spaceQuota = { name: 'openapi-space-quota', routes: { total_routes: 10 }, relationships: { organization, spaces: { data: [{ guid: spaceGuid }] } } }
      const sq = (await taken(spaces, spaceQuota, post(spaces, spaceQuota))).body
      await refused('/v3/space_quotas/{guid}', { name: ' ' }, "Name can't be blank", () => admin.patch(`${spaces}/${sq.guid}`, { name: ' ' }), 'patch')

      const applySpace = '/v3/space_quotas/{guid}/relationships/spaces'
      const second = expectOk(await admin.post('/v3/spaces', { name: 'openapi-quotas-space-3', relationships: { organization } }), 201).body
      await refused(applySpace, { data: [] }, "Data can't be blank", () => admin.post(`${spaces}/${sq.guid}/relationships/spaces`, { data: [] }))
      await taken(applySpace, { data: [{ guid: second.guid }] }, () => admin.post(`${spaces}/${sq.guid}/relationships/spaces`, { data: [{ guid: second.guid }] }), 200)
    })

    it('syslog_drain_url and route_service_url state a pattern narrower than URL.canParse', async () => {
      const create = bodySchema('/v3/service_instances')
      const drain = create.properties.syslog_drain_url
      const routeService = create.properties.route_service_url
      for (const u of ['syslog://a', 'syslog-tls://logs.example.com:6514', 'https://h1.example/x/./..', 'https-batch://a.b:9/p~q_r-s']) {
        assert.ok(matches(drain, u) && URL.canParse(u), u)
      }
      // canParse takes these; the pattern does not (narrower, never wider).
      for (const u of ['syslog://', 'file:///x', 'https://u:p@h/x?y#z', 'https://1.2.3.4', ' https://a']) assert.ok(!matches(drain, u) && URL.canParse(u), u)
      for (const u of ['https://09', 'https://xn--a', 'https://', 'syslog://a:99999']) assert.ok(!matches(drain, u) && !URL.canParse(u), u)
      assert.ok(matches(routeService, 'https://rs.example.com/route') && !matches(routeService, 'http://rs.example.com'))

      const { spaceGuid } = await createOrgAndSpace(admin, 'openapi-ups', 'openapi-ups-space')
      const base = { type: 'user-provided', name: 'openapi-ups', relationships: { space: { data: { guid: spaceGuid } } } }
      const post = (body: Record<string, unknown>) => () => admin.post('/v3/service_instances', body)
      for (const [extra, detail] of [
        [{ syslog_drain_url: 'syslog drain' }, 'Syslog drain url must be a valid URI'],
        [{ syslog_drain_url: '' }, 'Syslog drain url must be a valid URI'],
        [{ route_service_url: 'http://rs.example.com' }, 'Route service url must be https'],
        [{ route_service_url: '' }, 'Route service url must be a valid URI, Route service url must be https'],
      ] as const) {
        await refused('/v3/service_instances', { ...base, ...extra }, detail, post({ ...base, ...extra }))
      }
      const good = { ...base, syslog_drain_url: 'syslog-tls://logs.example.com:6514', route_service_url: 'https://rs.example.com/route' }
      const si = (await taken('/v3/service_instances', good, post(good))).body
      const path = '/v3/service_instances/{guid}'
      const patch = (body: Record<string, unknown>) => () => admin.patch(`/v3/service_instances/${si.guid}`, body)
      await refused(path, { syslog_drain_url: '//logs.example.com' }, 'Syslog drain url must be a valid URI', patch({ syslog_drain_url: '//logs.example.com' }), 'patch')
      const update = { syslog_drain_url: 'https://logs.example.com/x', route_service_url: null }
      await taken(path, update, patch(update), 200, 'patch')
    })
  })
}

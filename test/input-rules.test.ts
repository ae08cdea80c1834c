// No input reaches the database unchecked (src/messages/text.ts, numbers.ts): NUL characters,
// unpaired surrogates, invalid UTF-8 and integers past their column, in every body field, query
// parameter and path parameter the OpenAPI document lists, get a 4xx in CF's shape, never a 5xx.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const NUL = 'a\u0000b'
const SURROGATE = 'a\ud800b'
const HUGE = 2 ** 63

interface Operation {
  readonly method: string
  readonly path: string
  readonly query: readonly string[]
  readonly bodyProps: readonly string[]
}

function operations(doc: { paths: Record<string, Record<string, any>> }): Operation[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const ops: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const schema = op.requestBody?.content?.['application/json']?.schema
      ops.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name),
        bodyProps: Object.keys(schema?.properties ?? {}),
      })
    }
  }
  return ops
}

for (const store of stores()) {
  describe(`input rules [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let ids: Record<string, string>

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'o', 's')
      const app = expectOk(await admin.post('/v3/apps', { name: 'a', relationships: { space: { data: { guid: spaceGuid } } } }), 201)
      const web = expectOk(await admin.get(`/v3/apps/${app.body.guid}/processes/web`))
      ids = { organizations: orgGuid, spaces: spaceGuid, apps: app.body.guid, processes: web.body.guid }
    })
    after(() => server?.stop())

    /** Fills path parameters with the guid of a real resource where one exists, so a body reaches its checks. */
    const realPath = (path: string) => path.replace(/\{[^}]+\}/g, () => ids[path.split('/')[2] ?? ''] ?? '00000000-0000-4000-8000-000000000000')

    async function expect4xx(what: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) {
      const r = await admin.request(method, path, body, headers)
      assert.ok(r.status >= 400 && r.status < 500, `${what}: ${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`)
      return r
    }

    it('every body field refuses NUL, unpaired surrogates and integers past 2^63', async () => {
      const doc = expectOk(await admin.get('/openapi.json')).body
      let probes = 0
      for (const op of operations(doc)) {
        for (const prop of op.bodyProps) {
          for (const bad of [NUL, SURROGATE, HUGE, { [NUL]: 'x' }]) {
            const r = await admin.request(op.method, realPath(op.path), { [prop]: bad })
            assert.ok(r.status < 500, `${op.method} ${op.path} ${prop}=${JSON.stringify(bad)} → ${r.status} ${JSON.stringify(r.body)}`)
            probes++
          }
        }
      }
      assert.ok(probes > 100, `only ${probes} probes`)
    })

    it('every query and path parameter refuses NUL, invalid UTF-8 and out-of-range integers', async () => {
      const doc = expectOk(await admin.get('/openapi.json')).body
      const probes: (() => Promise<unknown>)[] = []
      for (const op of operations(doc)) {
        if (op.method !== 'GET') continue
        for (const bad of ['%00', '%ED%A0%80']) {
          if (op.path.includes('{')) probes.push(() => expect4xx('path', 'GET', op.path.replace(/\{[^}]+\}/g, bad)))
          for (const q of op.query) probes.push(() => expect4xx('query', 'GET', `${realPath(op.path)}?${encodeURIComponent(q)}=${bad}`))
        }
        for (const q of op.query) {
          probes.push(async () => {
            const r = await admin.get(`${realPath(op.path)}?${encodeURIComponent(q)}=99999999999999999999`)
            assert.ok(r.status < 500, `${op.path}?${q}=huge → ${r.status} ${JSON.stringify(r.body)}`)
          })
        }
      }
      // A few at a time: the point is coverage, not load.
      for (let i = 0; i < probes.length; i += 8) await Promise.all(probes.slice(i, i + 8).map((p) => p()))
      assert.ok(probes.length > 500, `only ${probes.length} probes`)
    })

    it('answers the probes that used to be 500s with CF messages', async () => {
      const nulName = await expect4xx('org name', 'POST', '/v3/organizations', { name: NUL })
      assert.equal(nulName.status, 422)
      assert.equal(nulName.body.errors[0].detail, 'name must not contain NUL characters')
      const surrogateCommand = await expect4xx('task command', 'POST', `/v3/apps/${ids.apps}/tasks`, { command: SURROGATE })
      assert.equal(surrogateCommand.body.errors[0].title, 'CF-UnprocessableEntity')
      await expect4xx('env var', 'PATCH', `/v3/apps/${ids.apps}/environment_variables`, { var: { [NUL]: 'x' } })
      await expect4xx('annotation', 'PATCH', `/v3/apps/${ids.apps}`, { metadata: { annotations: { a: NUL } } })
      const memory = await expect4xx('memory', 'POST', `/v3/processes/${ids.processes}/actions/scale`, { memory_in_mb: 2 ** 31 })
      assert.equal(memory.body.errors[0].detail, 'Memory in mb must be less than or equal to 2147483647')
      const instances = await expect4xx('instances', 'POST', `/v3/processes/${ids.processes}/actions/scale`, { instances: 2 ** 31 })
      assert.equal(instances.body.errors[0].detail, 'Instances must be less than or equal to 2147483647')
      const logRate = await expect4xx('log rate', 'POST', `/v3/apps/${ids.apps}/tasks`, { command: 'x', log_rate_limit_in_bytes_per_second: 2 ** 63 })
      assert.equal(logRate.body.errors[0].detail, 'Log rate limit in bytes per second must be less than or equal to 9223372036854775807')
      const page = await expect4xx('page', 'GET', '/v3/organizations?page=99999999999999999999')
      assert.equal(page.body.errors[0].detail, 'The query parameter is invalid: Page must be less than or equal to 2147483647')
      // cf double-encodes commas in filters; the second decoding must not let a NUL through.
      await expect4xx('filter', 'GET', '/v3/organizations?names=%2500')
      await expect4xx('scim', 'POST', '/Users', { userName: NUL, password: 'p', emails: [{ value: 'x@example.com' }] })
      const invalidUtf8 = await fetch(`${server.url}/v3/organizations`, {
        method: 'POST',
        headers: { authorization: `bearer ${admin.token}`, 'content-type': 'application/json' },
        body: Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff]), Buffer.from('"}')]),
      })
      assert.equal(invalidUtf8.status, 400)
      assert.equal(((await invalidUtf8.json()) as { errors: { title: string }[] }).errors[0]!.title, 'CF-MessageParseError')
      const anon = new Api(server.url)
      const token = await anon.request('POST', '/oauth/token', 'grant_type=password&username=ad%00min&password=x', {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
      })
      assert.ok(token.status >= 400 && token.status < 500, String(token.status))
      assert.equal(typeof token.body.error, 'string')
      // As CC: an anonymous request with a bad query is a 401, not a 400.
      assert.equal((await anon.get('/v3/organizations?bogus=1')).status, 401)
    })

    it('answers router and HTTP-parser refusals in CF shape, and never builds links from a bad Host or scheme', async () => {
      const long = await expect4xx('long segment', 'GET', `/v3/apps/${'a'.repeat(2000)}`)
      assert.equal(long.body.errors[0].code, 10000)
      const header = await fetch(`${server.url}/v3/info`, { headers: { 'x-big': 'a'.repeat(20000) } })
      assert.equal(header.status, 431)
      assert.equal(((await header.json()) as { errors: { title: string }[] }).errors[0]!.title, 'CF-InvalidRequest')
      const root = await admin.request('GET', '/', undefined, { 'x-forwarded-proto': 'javascript' })
      assert.match(root.body.links.self.href, /^http:\/\//)
      const https = await admin.request('GET', '/', undefined, { 'x-forwarded-proto': 'https' })
      assert.match(https.body.links.self.href, /^https:\/\//)
    })
  })
}

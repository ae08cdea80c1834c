// /openapi.json is as strict as the server where a schema can say it (docs/api-version.md): for
// each kind of rule, a value the document refuses is one the server refuses, and a value the
// document allows is one the server takes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, expectOk } from './support/client.ts'
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
  })
}

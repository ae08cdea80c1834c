import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import YAML from 'yaml'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const FULL = `---
applications:
- name: billing
  memory: 512M
  disk_quota: 2G
  instances: 2
  command: ./web --port $PORT
  health-check-type: http
  health-check-http-endpoint: /health
  timeout: 30
  buildpacks:
  - go_buildpack
  stack: cflinuxfs4
  no-route: true
  path: ./ignored-by-the-server
  env:
    DB_PASSWORD: s3cret
    MODE: batch
    RETRIES: 3
  metadata:
    labels:
      team: payments
  processes:
  - type: worker
    instances: 0
    memory: 256M
    command: ./worker --queue billing
`

for (const store of stores()) {
  describe(`manifests [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let spaceGuid: string

    const apply = (api: Api, yaml: string, type = 'application/x-yaml') =>
      api.request('POST', `/v3/spaces/${spaceGuid}/actions/apply_manifest`, yaml, { 'content-type': type })
    const diff = (api: Api, yaml: string) =>
      api.request('POST', `/v3/spaces/${spaceGuid}/manifest_diff`, yaml, { 'content-type': 'application/x-yaml' })
    const appNamed = async (name: string) =>
      expectOk(await admin.get(`/v3/apps?names=${name}&space_guids=${spaceGuid}`)).body.resources[0] as Record<string, any> | undefined // eslint-disable-line @typescript-eslint/no-explicit-any
    const processes = async (appGuid: string) =>
      Object.fromEntries(
        expectOk(await admin.get(`/v3/apps/${appGuid}/processes`)).body.resources.map((p: { type: string }) => [p.type, p]),
      ) as Record<string, Record<string, any>> // eslint-disable-line @typescript-eslint/no-explicit-any
    /** An app's events, without the env reads the tests themselves cause. */
    const events = async (appGuid: string) =>
      (expectOk(await admin.get(`/v3/audit_events?target_guids=${appGuid}&per_page=5000`)).body.resources as Record<string, any>[]).filter( // eslint-disable-line @typescript-eslint/no-explicit-any
        (e) => e.type !== 'audit.app.environment_variables.show',
      )

    async function applied(api: Api, yaml: string) {
      const r = await apply(api, yaml)
      assert.equal(r.status, 202, JSON.stringify(r.body))
      const job = expectOk(await api.get(r.headers.get('location')!.slice(server.url.length)))
      assert.equal(job.body.state, 'COMPLETE', JSON.stringify(job.body))
      return job.body
    }

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const ids = await createOrgAndSpace(admin, 'mf-org', 'mf-space')
      spaceGuid = ids.spaceGuid
      const d = await createUser(admin, 'mf-dev')
      const a = await createUser(admin, 'mf-aud')
      const o = await createUser(admin, 'mf-out')
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: ids.orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      dev = d.api
      auditor = a.api
      outsider = o.api
    })
    after(() => server.stop())

    it('creates an app from a manifest, with processes, env, lifecycle and labels; the job is COMPLETE on the first poll', async () => {
      const job = await applied(dev, FULL)
      assert.deepEqual(job.errors, [])
      assert.deepEqual(job.warnings, [])
      const app = (await appNamed('billing'))!
      assert.deepEqual(app.lifecycle, { type: 'buildpack', data: { buildpacks: ['go_buildpack'], stack: 'cflinuxfs4' } })
      assert.deepEqual(app.metadata.labels, { team: 'payments' })
      const env = expectOk(await dev.get(`/v3/apps/${app.guid}/environment_variables`)).body.var
      assert.deepEqual(env, { DB_PASSWORD: 's3cret', MODE: 'batch', RETRIES: '3' })
      const procs = await processes(app.guid)
      assert.equal(procs.web!.memory_in_mb, 512)
      assert.equal(procs.web!.disk_in_mb, 2048)
      assert.equal(procs.web!.instances, 2)
      assert.equal(procs.web!.command, './web --port $PORT')
      assert.equal(procs.web!.health_check.type, 'http')
      assert.equal(procs.web!.health_check.data.endpoint, '/health')
      assert.equal(procs.web!.health_check.data.timeout, 30)
      assert.equal(procs.worker!.memory_in_mb, 256)
      assert.equal(procs.worker!.instances, 0)
      assert.equal(procs.worker!.command, './worker --queue billing')
    })

    it('records apply_manifest with env hidden, and the updates it triggered', async () => {
      const app = (await appNamed('billing'))!
      const evs = await events(app.guid)
      const types = evs.map((e) => e.type)
      assert.deepEqual(types, [
        'audit.app.create',
        'audit.app.apply_manifest',
        'audit.app.process.update',
        'audit.app.process.create',
        'audit.app.process.update',
        'audit.app.process.scale',
        'audit.app.process.scale',
        'audit.app.update',
        'audit.app.update',
      ])
      const create = evs[0]!
      assert.deepEqual(create.data.request, {
        name: 'billing',
        relationships: { space: { data: { guid: spaceGuid } } },
        lifecycle: { data: { buildpacks: ['go_buildpack'], stack: 'cflinuxfs4' } },
        metadata: { labels: { team: 'payments' } },
      })
      const manifest = evs[1]!.data.request.manifest as string
      assert.ok(manifest.startsWith('---\napplications:\n- name: billing\n'), manifest)
      const recorded = YAML.parse(manifest)
      assert.equal(recorded.applications[0].env, '[PRIVATE DATA HIDDEN]')
      assert.equal(recorded.applications[0].command, './web --port $PORT', 'CC does not hide commands in the manifest event')
      assert.equal(recorded.applications[0].processes[0].command, './worker --queue billing')
      assert.doesNotMatch(manifest, /s3cret/)
      const procs = await processes(app.guid)
      assert.deepEqual(evs[2]!.data, {
        process_guid: procs.web!.guid,
        process_type: 'web',
        request: { type: 'web', command: '[PRIVATE DATA HIDDEN]', health_check_type: 'http', health_check_http_endpoint: '/health', timeout: 30 },
        manifest_triggered: true,
      })
      assert.deepEqual(evs[3]!.data, { process_guid: procs.worker!.guid, process_type: 'worker', manifest_triggered: true })
      assert.deepEqual(evs[4]!.data.request, { type: 'worker', command: '[PRIVATE DATA HIDDEN]' })
      assert.deepEqual(evs[5]!.data, {
        process_guid: procs.web!.guid,
        process_type: 'web',
        request: { memory_in_mb: 512, disk_in_mb: 2048, instances: 2 },
        manifest_triggered: true,
      })
      assert.deepEqual(evs[6]!.data.request, { memory_in_mb: 256, instances: 0 })
      assert.deepEqual(evs[7]!.data, {
        request: { lifecycle: { data: { buildpacks: ['go_buildpack'], stack: 'cflinuxfs4' } }, metadata: { labels: { team: 'payments' } } },
        manifest_triggered: true,
      })
      assert.deepEqual(evs[8]!.data, { request: { environment_variables: '[PRIVATE DATA HIDDEN]' }, manifest_triggered: true })
      for (const e of evs) assert.doesNotMatch(JSON.stringify(e.data), /s3cret/)
    })

    it('updates an existing app: merges env, rescales, and warns about routes it cannot map', async () => {
      const before = (await appNamed('billing'))!
      const job = await applied(dev, 'applications:\n- name: billing\n  memory: 1G\n  routes:\n  - route: billing.example.com\n  env:\n    MODE: online\n')
      assert.deepEqual(job.warnings, [{ detail: "For application 'billing': routes ignored: cf-ledger runs tasks only and maps no routes" }])
      const after = (await appNamed('billing'))!
      assert.equal(after.guid, before.guid)
      assert.deepEqual(expectOk(await dev.get(`/v3/apps/${after.guid}/environment_variables`)).body.var, { DB_PASSWORD: 's3cret', MODE: 'online', RETRIES: '3' })
      const procs = await processes(after.guid)
      assert.equal(procs.web!.memory_in_mb, 1024)
      assert.equal(procs.web!.instances, 2, 'attributes the manifest leaves out stay')
      assert.deepEqual(after.lifecycle.data.buildpacks, ['go_buildpack'])
      const last = (await events(after.guid)).slice(-4).map((e) => [e.type, e.data.request])
      assert.deepEqual(last, [
        ['audit.app.apply_manifest', last[0]![1]],
        ['audit.app.process.scale', { memory_in_mb: 1024 }],
        ['audit.app.update', {}],
        ['audit.app.update', { environment_variables: '[PRIVATE DATA HIDDEN]' }],
      ])
    })

    it('creates several apps from one manifest, with the default buildpack meaning auto-detect', async () => {
      await applied(dev, 'applications:\n- name: one\n  buildpack: default\n- name: two\n  instances: 0\n')
      assert.deepEqual((await appNamed('one'))!.lifecycle.data.buildpacks, [])
      const two = (await appNamed('two'))!
      assert.equal((await processes(two.guid)).web!.instances, 0)
    })

    it('answers broken manifests with CC errors and changes nothing', async () => {
      const cases: [string, number, string, string][] = [
        ['applications: [\n', 400, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body'],
        ['- just\n- a list\n', 400, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body'],
        ['', 400, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body'],
        ['applications:\n- name: x\n  memory: &m 256M\n  disk_quota: *m\n', 400, 'CF-BadRequest', 'Bad request: Manifest does not support Anchors and Aliases'],
        ['version: 2\napplications:\n- name: x\n', 422, 'CF-UnprocessableEntity', 'Unsupported manifest schema version. Currently supported versions: [1].'],
        ['applications: []\n', 422, 'CF-UnprocessableEntity', "Cannot parse manifest with no 'applications' field."],
        ['name: x\n', 422, 'CF-UnprocessableEntity', "Cannot parse manifest with no 'applications' field."],
        ['applications:\n- memory: 1G\n', 422, 'CF-UnprocessableEntity', 'For application at index 0: Name must not be empty'],
        [
          'applications:\n- name: bad\n  memory: 256\n',
          422,
          'CF-UnprocessableEntity',
          'For application \'bad\': Process "web": Memory must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB',
        ],
        ['applications:\n- name: bad\n  instances: -1\n', 422, 'CF-UnprocessableEntity', 'For application \'bad\': Process "web": Instances must be greater than or equal to 0'],
        ['applications:\n- name: bad\n  docker:\n    image: busybox\n', 422, 'CF-UnprocessableEntity', "For application 'bad': Feature Disabled: diego_docker"],
        ['applications:\n- name: bad\n  buildpack: a\n  buildpacks: [b]\n', 422, 'CF-UnprocessableEntity', "For application 'bad': Buildpack and Buildpacks fields cannot be used together."],
        ['applications:\n- name: bad\n  env: [1]\n', 422, 'CF-UnprocessableEntity', "For application 'bad': Env must be an object of keys and values"],
        ['applications:\n- name: bad\n  env:\n    VCAP_X: y\n', 422, 'CF-UnprocessableEntity', "For application 'bad': Env cannot start with VCAP_"],
        [
          'applications:\n- name: bad\n  processes:\n  - type: w\n  - type: w\n',
          422,
          'CF-UnprocessableEntity',
          'For application \'bad\': Process "w" may only be present once',
        ],
        ['applications:\n- name: bad\n  services: [db]\n', 422, 'CF-UnprocessableEntity', "For application 'bad': Services are not supported: cf-ledger has no service instances to bind"],
        [
          'applications:\n- name: bad\n  memory: 1X\n- name: worse\n  disk_quota: 0M\n',
          422,
          'CF-UnprocessableEntity',
          'For application \'bad\': Process "web": Memory must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB, For application \'worse\': Process "web": Disk quota must be greater than 0MB',
        ],
        [`applications:\n- name: huge\n  env:\n    BIG: ${'x'.repeat(1024 * 1024)}\n`, 400, 'CF-BadRequest', 'Bad request: Manifest size is too large. The maximum supported size is 1MB.'],
      ]
      const totalEvents = async () => expectOk(await admin.get('/v3/audit_events?per_page=1')).body.pagination.total_results as number
      const before = await totalEvents()
      for (const [yaml, status, title, detail] of cases) {
        const r = await apply(dev, yaml)
        assert.equal(r.status, status, `${yaml.slice(0, 60)} → ${JSON.stringify(r.body)}`)
        assert.equal(r.body.errors[0].title, title, yaml.slice(0, 60))
        assert.equal(r.body.errors[0].detail, detail, yaml.slice(0, 60))
      }
      const wrongType = await apply(dev, 'applications:\n- name: x\n', 'text/plain')
      assert.equal(wrongType.status, 400)
      assert.equal(wrongType.body.errors[0].detail, 'Bad request: Content-Type must be yaml')
      for (const name of ['x', 'bad', 'worse', 'huge']) assert.equal(await appNamed(name), undefined, name)
      assert.equal(await totalEvents(), before)
    })

    it('lets only space developers apply manifests', async () => {
      const aud = await apply(auditor, 'applications:\n- name: nope\n')
      assert.equal(aud.status, 403)
      assert.equal(aud.body.errors[0].title, 'CF-NotAuthorized')
      const out = await apply(outsider, 'applications:\n- name: nope\n')
      assert.equal(out.status, 404)
      assert.equal(out.body.errors[0].detail, 'Space not found')
      assert.equal((await diff(auditor, 'applications:\n- name: nope\n')).status, 403)
      assert.equal((await diff(outsider, 'applications:\n- name: nope\n')).status, 404)
      assert.equal(await appNamed('nope'), undefined)
    })

    it('diffs a manifest against the current apps', async () => {
      const r = await diff(
        dev,
        'applications:\n- name: billing\n  memory: 1G\n  disk_quota: 4G\n  instances: 2\n  stack: cflinuxfs4\n  processes:\n  - type: worker\n    instances: 3\n  - type: clock\n    instances: 1\n- name: brand-new\n  memory: 128M\n',
      )
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.deepEqual(r.body.diff, [
        { op: 'replace', path: '/applications/0/disk_quota', was: '2048M', value: '4G' },
        { op: 'replace', path: '/applications/0/processes/0/instances', was: 0, value: 3 },
        { op: 'add', path: '/applications/0/processes/1', value: { type: 'clock', instances: 1 } },
        { op: 'add', path: '/applications/1/name', value: 'brand-new' },
        { op: 'add', path: '/applications/1/memory', value: '128M' },
      ])
      assert.equal(await appNamed('brand-new'), undefined, 'a diff changes nothing')
      const bad = await diff(dev, 'applications:\n- name: billing\n  memory: lots\n')
      assert.equal(bad.status, 422)
    })
  })
}

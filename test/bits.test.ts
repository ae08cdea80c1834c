import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import zlib from 'node:zlib'
import { insertBlob, readBlob } from '../src/bits/blobs.ts'
import { materializeDroplet } from '../src/bits/droplets.ts'
import { openStore } from '../src/store/store.ts'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { withStore } from './support/db.ts'
import { uploadBits, zipOf } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

// ---------------------------------------------------------------------------------------------
// A raw zip writer, so tests can build the archives yazl refuses to make (traversal, symlinks
// out, lying headers, bad CRCs).
interface RawEntry {
  readonly name: string
  readonly data?: Buffer
  /** Unix mode including the file type bits (0o100644 file, 0o120777 symlink, 0o040755 dir). */
  readonly mode?: number
  readonly deflate?: boolean
  /** Overrides the sizes and CRC written in the headers. */
  readonly declaredSize?: number
  readonly crc?: number
}

function rawZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0)
    const body = e.deflate ? zlib.deflateRawSync(data) : data
    const crc = e.crc ?? zlib.crc32(data)
    const size = e.declaredSize ?? data.length
    const name = Buffer.from(e.name, 'utf8')
    const method = e.deflate ? 8 : 0
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x800, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(0, 10)
    local.writeUInt32LE(crc >>> 0, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(0, 12)
    central.writeUInt32LE(crc >>> 0, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, body)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

const file = (name: string, content: string | Buffer, mode = 0o100644): RawEntry => ({ name, data: Buffer.from(content), mode, deflate: true })
const symlink = (name: string, target: string): RawEntry => ({ name, data: Buffer.from(target), mode: 0o120777 })
const MiB = 1024 * 1024

/** The package every successful push uploads: an executable, nested files, an empty dir and an inner symlink. */
const APP_FILES: RawEntry[] = [
  file('run.sh', '#!/bin/sh\necho hi\n', 0o100755),
  file('data.txt', 'payload\n'),
  file('lib/v1/util.sh', 'echo util\n'),
  symlink('lib/current', 'v1'),
  { name: 'empty/', mode: 0o040755 },
  file('nested/deep/dir/file.txt', 'deep\n'),
  file('zero.bin', ''),
]

const LIMITS = {
  CF_LEDGER_MAX_PACKAGE_BYTES: String(512 * 1024),
  CF_LEDGER_MAX_UNZIPPED_BYTES: String(64 * MiB),
  CF_LEDGER_MAX_ZIP_ENTRIES: '100',
}

for (const store of stores()) {
  describe(`bits: packages, builds, droplets [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let orgGuid: string
    let spaceGuid: string
    let appGuid: string
    let packageGuid: string
    let dropletGuid: string
    let okUploads = 0
    const appZip = rawZip(APP_FILES)

    const applyManifest = (api: Api, yaml: string) =>
      api.request('POST', `/v3/spaces/${spaceGuid}/actions/apply_manifest`, yaml, { 'content-type': 'application/x-yaml' })
    const newPackage = async (api: Api = dev, app = appGuid) =>
      expectOk(await api.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app } } } }), 201).body
    const eventsOf = async (type: string, target = appGuid) =>
      expectOk(await admin.get(`/v3/audit_events?target_guids=${target}&types=${type}&per_page=5000`)).body.resources as Record<string, any>[] // eslint-disable-line @typescript-eslint/no-explicit-any

    before(async () => {
      server = await startServer(store, { env: LIMITS })
      admin = await new Api(server.url).admin()
      ;({ orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'bits-org', 'bits-space'))
      const d = await createUser(admin, 'bits-dev')
      const a = await createUser(admin, 'bits-aud')
      const o = await createUser(admin, 'bits-out')
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      dev = d.api
      auditor = a.api
      outsider = o.api
    })
    after(() => server.stop())

    it('takes the whole `cf push APP --task` sequence as cf v8 sends it', async () => {
      // 1. apply_manifest with the manifest the CLI generates, then poll the job once.
      const applied = await applyManifest(dev, 'applications:\n- name: worker\n  no-route: true\n')
      assert.equal(applied.status, 202, JSON.stringify(applied.body))
      const location = applied.headers.get('location')!
      assert.match(location, new RegExp(`^${server.url}/v3/jobs/[0-9a-f-]{36}$`))
      const job = expectOk(await dev.get(location.slice(server.url.length)))
      assert.equal(job.body.state, 'COMPLETE')
      assert.equal(job.body.operation, 'app.apply_manifest')

      // 2. the app exists now
      const apps = expectOk(await dev.get(`/v3/apps?names=worker&space_guids=${spaceGuid}`))
      assert.equal(apps.body.resources.length, 1)
      appGuid = apps.body.resources[0].guid

      // 3. resource matching never matches
      const matches = await dev.post('/v3/resource_matches', {
        resources: [{ checksum: { value: crypto.createHash('sha1').update('x').digest('hex') }, size_in_bytes: 1, path: 'run.sh', mode: '755' }],
      })
      assert.equal(matches.status, 201)
      assert.deepEqual(matches.body, { resources: [] })

      // 4. package
      const pkg = await newPackage()
      packageGuid = pkg.guid
      assert.equal(pkg.type, 'bits')
      assert.equal(pkg.state, 'AWAITING_UPLOAD')
      assert.deepEqual(pkg.data, { error: null, checksum: { type: 'sha256', value: null } })
      assert.deepEqual(pkg.relationships, { app: { data: { guid: appGuid } } })
      assert.deepEqual(pkg.metadata, { labels: {}, annotations: {} })
      assert.match(pkg.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      assert.deepEqual(pkg.links.upload, { href: `${server.url}/v3/packages/${pkg.guid}/upload`, method: 'POST' })
      assert.deepEqual(Object.keys(pkg), ['guid', 'created_at', 'updated_at', 'type', 'data', 'state', 'relationships', 'metadata', 'links'])

      // 5. upload: READY in the response, so the CLI never sleeps
      const up = await uploadBits(dev, pkg.guid, appZip)
      assert.equal(up.status, 200, JSON.stringify(up.body))
      okUploads++
      assert.equal(up.body.state, 'READY')
      const sha = crypto.createHash('sha256').update(appZip).digest('hex')
      assert.deepEqual(up.body.data.checksum, { type: 'sha256', value: sha })

      // 6. build: STAGED on the first GET, with a droplet
      const build = await dev.post('/v3/builds', { package: { guid: pkg.guid } })
      assert.equal(build.status, 201, JSON.stringify(build.body))
      const polled = expectOk(await dev.get(`/v3/builds/${build.body.guid}`))
      assert.equal(polled.body.state, 'STAGED')
      assert.equal(polled.body.error, null)
      assert.deepEqual(polled.body.package, { guid: pkg.guid })
      assert.deepEqual(polled.body.lifecycle, { type: 'buildpack', data: { buildpacks: [], stack: 'cflinuxfs4' } })
      assert.equal(polled.body.created_by.name, 'bits-dev')
      assert.equal(polled.body.created_by.email, 'bits-dev@example.com')
      assert.equal(polled.body.staging_memory_in_mb, 1024)
      dropletGuid = polled.body.droplet.guid
      assert.equal(polled.body.links.droplet.href, `${server.url}/v3/droplets/${dropletGuid}`)

      // 7. the droplet
      const droplet = expectOk(await dev.get(`/v3/droplets/${dropletGuid}`)).body
      assert.equal(droplet.state, 'STAGED')
      assert.equal(droplet.stack, 'cflinuxfs4')
      assert.deepEqual(droplet.buildpacks, [])
      assert.equal(droplet.image, null)
      assert.deepEqual(droplet.process_types, { web: '', task: '' })
      assert.equal(droplet.execution_metadata, '')
      assert.deepEqual(droplet.checksum, { type: 'sha256', value: sha })
      assert.deepEqual(droplet.lifecycle, { type: 'buildpack', data: {} })
      assert.equal(droplet.links.package.href, `${server.url}/v3/packages/${pkg.guid}`)
      assert.deepEqual(droplet.links.assign_current_droplet, { href: `${server.url}/v3/apps/${appGuid}/relationships/current_droplet`, method: 'PATCH' })

      // 8. no current droplet yet; then stop (always, for --task) and set it
      const none = await dev.get(`/v3/apps/${appGuid}/droplets/current`)
      assert.equal(none.status, 404)
      assert.equal(none.body.errors[0].detail, 'Droplet not found')
      expectOk(await dev.post(`/v3/apps/${appGuid}/actions/stop`))
      const set = expectOk(await dev.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: dropletGuid } }))
      assert.deepEqual(set.body, {
        data: { guid: dropletGuid },
        links: {
          self: { href: `${server.url}/v3/apps/${appGuid}/relationships/current_droplet` },
          related: { href: `${server.url}/v3/apps/${appGuid}/droplets/current` },
        },
      })
      const current = expectOk(await dev.get(`/v3/apps/${appGuid}/droplets/current`))
      assert.equal(current.body.guid, dropletGuid)
      assert.deepEqual(expectOk(await dev.get(`/v3/apps/${appGuid}/relationships/current_droplet`)).body.data, { guid: dropletGuid })
      const listed = expectOk(await dev.get(`/v3/apps/${appGuid}/droplets?current=true`))
      assert.deepEqual(listed.body.resources.map((d: { guid: string }) => d.guid), [dropletGuid])
    })

    it('records package, build, droplet and mapping events with CC metadata', async () => {
      const [create] = await eventsOf('audit.app.package.create')
      assert.deepEqual(create!.data, { package_guid: packageGuid, request: { type: 'bits', relationships: { app: { data: { guid: appGuid } } } } })
      assert.equal(create!.actor.name, 'bits-dev@example.com')
      assert.deepEqual(create!.target, { guid: appGuid, type: 'app', name: 'worker' })
      assert.deepEqual(create!.space, { guid: spaceGuid })
      const [upload] = await eventsOf('audit.app.package.upload')
      assert.deepEqual(upload!.data, { package_guid: packageGuid })
      const [build] = await eventsOf('audit.app.build.create')
      const buildGuid = build!.data.build_guid
      assert.deepEqual(build!.data, { build_guid: buildGuid, package_guid: packageGuid })
      const [droplet] = await eventsOf('audit.app.droplet.create')
      assert.deepEqual(droplet!.data, { droplet_guid: dropletGuid, package_guid: packageGuid })
      const [staged] = await eventsOf('audit.app.build.staged')
      assert.deepEqual(staged!.data, { build_guid: buildGuid, package_guid: packageGuid, droplet_guid: dropletGuid, buildpacks: [] })
      const [mapped] = await eventsOf('audit.app.droplet.mapped')
      assert.deepEqual(mapped!.data, { request: { droplet_guid: dropletGuid } })
      // build.create, droplet.create and build.staged are written in that order
      const all = expectOk(await admin.get(`/v3/audit_events?target_guids=${appGuid}&per_page=5000`)).body.resources.map((e: { type: string }) => e.type)
      const order = ['audit.app.package.create', 'audit.app.package.upload', 'audit.app.build.create', 'audit.app.droplet.create', 'audit.app.build.staged', 'audit.app.droplet.mapped']
      assert.deepEqual(all.filter((t: string) => order.includes(t)), order)
    })

    it('lists packages, builds and droplets with filters, scoped to what the caller can read', async () => {
      const pkgs = expectOk(await dev.get(`/v3/packages?app_guids=${appGuid}&states=READY&types=bits`))
      assert.deepEqual(pkgs.body.resources.map((p: { guid: string }) => p.guid), [packageGuid])
      assert.equal(pkgs.body.pagination.total_results, 1)
      assert.equal(expectOk(await dev.get(`/v3/packages?states=AWAITING_UPLOAD&app_guids=${appGuid}`)).body.resources.length, 0)
      assert.equal(expectOk(await dev.get(`/v3/packages?space_guids=${spaceGuid}&organization_guids=${orgGuid}`)).body.resources.length, 1)
      assert.equal(expectOk(await dev.get(`/v3/apps/${appGuid}/packages?states=READY`)).body.resources.length, 1)
      assert.equal(expectOk(await dev.get(`/v3/packages?guids=${packageGuid}`)).body.resources.length, 1)
      const builds = expectOk(await auditor.get(`/v3/builds?app_guids=${appGuid}&states=STAGED&package_guids=${packageGuid}`))
      assert.equal(builds.body.resources.length, 1)
      assert.equal(expectOk(await dev.get(`/v3/apps/${appGuid}/builds`)).body.resources.length, 1)
      const droplets = expectOk(await dev.get(`/v3/droplets?app_guids=${appGuid}&states=STAGED`))
      assert.deepEqual(droplets.body.resources.map((d: { guid: string }) => d.guid), [dropletGuid])
      // lists never show process types or execution metadata
      assert.deepEqual(droplets.body.resources[0].process_types, { redacted_message: '[PRIVATE DATA HIDDEN IN LISTS]' })
      assert.equal(droplets.body.resources[0].execution_metadata, '[PRIVATE DATA HIDDEN IN LISTS]')
      assert.equal(expectOk(await dev.get(`/v3/packages/${packageGuid}/droplets`)).body.resources.length, 1)
      for (const url of ['/v3/packages', '/v3/builds', '/v3/droplets']) {
        assert.equal(expectOk(await outsider.get(url)).body.resources.length, 0, url)
      }
      const bad = await dev.get('/v3/packages?colour=red')
      assert.equal(bad.status, 400)
      assert.equal(bad.body.errors[0].title, 'CF-BadQueryParameter')
    })

    it('enforces space developer for writes, 404 for outsiders, and hides droplet secrets from auditors', async () => {
      // POST /v3/packages: auditor 403; outsider 422 (CC's "App is invalid")
      const audPkg = await auditor.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } })
      assert.equal(audPkg.status, 403)
      assert.equal(audPkg.body.errors[0].title, 'CF-NotAuthorized')
      const outPkg = await outsider.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } })
      assert.equal(outPkg.status, 422)
      assert.equal(outPkg.body.errors[0].detail, 'App is invalid. Ensure it exists and you have access to it.')
      // reads
      expectOk(await auditor.get(`/v3/packages/${packageGuid}`))
      const outGet = await outsider.get(`/v3/packages/${packageGuid}`)
      assert.equal(outGet.status, 404)
      assert.equal(outGet.body.errors[0].detail, 'Package not found')
      assert.equal((await outsider.get(`/v3/droplets/${dropletGuid}`)).status, 404)
      assert.equal((await outsider.get(`/v3/apps/${appGuid}/droplets/current`)).body.errors[0].detail, 'App not found')
      const audDroplet = expectOk(await auditor.get(`/v3/droplets/${dropletGuid}`)).body
      assert.deepEqual(audDroplet.process_types, { redacted_message: '[PRIVATE DATA HIDDEN]' })
      assert.equal(audDroplet.execution_metadata, '[PRIVATE DATA HIDDEN]')
      // upload: auditor 403, outsider 404
      const fresh = await newPackage()
      assert.equal((await uploadBits(auditor, fresh.guid, appZip)).status, 403)
      const outUp = await uploadBits(outsider, fresh.guid, appZip)
      assert.equal(outUp.status, 404)
      assert.equal(outUp.body.errors[0].detail, 'Package not found')
      // builds: CC answers 422 to anyone who may not stage the package
      for (const api of [auditor, outsider]) {
        const b = await api.post('/v3/builds', { package: { guid: packageGuid } })
        assert.equal(b.status, 422)
        assert.equal(b.body.errors[0].detail, 'Unable to use package. Ensure that the package exists and you have access to it.')
      }
      // current droplet: auditor 403, outsider 404
      assert.equal((await auditor.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: dropletGuid } })).status, 403)
      assert.equal((await outsider.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: dropletGuid } })).status, 404)
      // downloads need secrets access
      assert.equal((await auditor.get(`/v3/packages/${packageGuid}/download`)).status, 403)
      const res = await fetch(`${server.url}/v3/packages/${packageGuid}/download`, { headers: { authorization: `bearer ${dev.token}` } })
      assert.equal(res.status, 200)
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(appZip))
      const dl = await fetch(`${server.url}/v3/droplets/${dropletGuid}/download`, { headers: { authorization: `bearer ${dev.token}` } })
      assert.ok(Buffer.from(await dl.arrayBuffer()).equals(appZip))
      // no token: 401 before the body is read
      const anon = await fetch(`${server.url}/v3/packages/${fresh.guid}/upload`, { method: 'POST', body: new FormData() })
      assert.equal(anon.status, 401)
    })

    it('answers bad requests with CC errors', async () => {
      const noType = await dev.post('/v3/packages', { relationships: { app: { data: { guid: appGuid } } } })
      assert.equal(noType.status, 422)
      assert.match(noType.body.errors[0].detail, /Type must be one of 'bits, docker'/)
      const docker = await dev.post('/v3/packages', { type: 'docker', relationships: { app: { data: { guid: appGuid } } } })
      assert.equal(docker.body.errors[0].detail, 'Cannot create Docker package for a buildpack app.')
      assert.equal((await dev.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } }, extra: 1 })).status, 422)

      const pkg = await newPackage()
      // a build needs bits
      const early = await dev.post('/v3/builds', { package: { guid: pkg.guid } })
      assert.equal(early.status, 400)
      assert.equal(early.body.errors[0].title, 'CF-BadRequest')
      assert.equal(early.body.errors[0].detail, 'Bad request: Cannot stage package whose state is not ready.')
      // an upload needs bits
      const form = new FormData()
      form.append('resources', '[]')
      const empty = await fetch(`${server.url}/v3/packages/${pkg.guid}/upload`, { method: 'POST', headers: { authorization: `bearer ${dev.token}` }, body: form })
      assert.equal(empty.status, 422)
      assert.equal((await empty.json()).errors[0].detail, 'Upload must include either resources or bits')
      // bits are uploaded once
      assert.equal((await uploadBits(dev, pkg.guid, appZip)).status, 200)
      okUploads++
      const again = await uploadBits(dev, pkg.guid, appZip)
      assert.equal(again.status, 400)
      assert.deepEqual(again.body.errors[0], {
        code: 150004,
        title: 'CF-PackageBitsAlreadyUploaded',
        detail: 'Bits may be uploaded only once. Create a new package to upload different bits.',
      })
      // the current droplet must be this app's, and the relationship cannot be cleared
      const other = expectOk(await dev.post('/v3/apps', { name: 'other', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body
      const wrong = await dev.patch(`/v3/apps/${other.guid}/relationships/current_droplet`, { data: { guid: dropletGuid } })
      assert.equal(wrong.status, 422)
      assert.equal(wrong.body.errors[0].detail, 'Unable to assign current droplet. Ensure the droplet exists and belongs to this app.')
      const cleared = await dev.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: null })
      assert.equal(cleared.body.errors[0].detail, 'Current droplet cannot be removed. Replace it with a preferable droplet.')
      assert.equal((await dev.get(`/v3/apps/${other.guid}/relationships/current_droplet`)).body.errors[0].detail, 'Droplet not found')
      // a started app may change droplet, as in CC (cf push of a started app does)
      expectOk(await dev.post(`/v3/apps/${appGuid}/actions/start`))
      expectOk(await dev.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: dropletGuid } }))
      expectOk(await dev.post(`/v3/apps/${appGuid}/actions/stop`))
      const unknown = await dev.get('/v3/builds/nope')
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.errors[0].detail, 'Build not found')
      assert.equal((await dev.post('/v3/resource_matches', { resources: [] })).status, 422)
    })

    it('takes process types from a Procfile and creates the missing processes when the droplet becomes current', async () => {
      const pkg = await newPackage()
      const zip = await zipOf({ Procfile: 'web: ./server --port $PORT\nworker: "./work.sh"\n', 'work.sh': { content: 'echo w\n', mode: 0o755 } })
      assert.equal((await uploadBits(dev, pkg.guid, zip)).status, 200)
      okUploads++
      const build = expectOk(await dev.post('/v3/builds', { package: { guid: pkg.guid }, lifecycle: { data: { buildpacks: ['binary_buildpack'], stack: 'cflinuxfs4' } } }), 201)
      const droplet = expectOk(await dev.get(`/v3/droplets/${build.body.droplet.guid}`)).body
      assert.deepEqual(droplet.process_types, { web: './server --port $PORT', worker: './work.sh' })
      assert.deepEqual(droplet.buildpacks, [{ name: 'binary_buildpack', detect_output: null, buildpack_name: null, version: null }])
      expectOk(await dev.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: droplet.guid } }))
      const created = await eventsOf('audit.app.process.create')
      assert.deepEqual(created.map((e) => e.data.process_type), ['worker'])
      const procs = expectOk(await dev.get(`/v3/apps/${appGuid}/processes`)).body.resources.map((p: { type: string }) => p.type)
      assert.ok(procs.includes('worker'), JSON.stringify(procs))
      const [staged] = (await eventsOf('audit.app.build.staged')).filter((e) => e.data.droplet_guid === droplet.guid)
      assert.deepEqual(staged!.data.buildpacks, [{ name: 'binary_buildpack', buildpack_name: null, version: null }])
      // back to the first droplet for the cache tests below
      expectOk(await dev.patch(`/v3/apps/${appGuid}/relationships/current_droplet`, { data: { guid: dropletGuid } }))
    })

    describe('rejects unsafe or broken zips with a CF error and keeps nothing', () => {
      const zeros = (n: number) => Buffer.alloc(n)
      const cases: { name: string; zip: () => Buffer | Promise<Buffer>; status: number; title: string; detail: string | RegExp }[] = [
        { name: 'a ../ path', zip: () => rawZip([file('../evil.txt', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Relative path(s) outside of root folder' },
        { name: 'a nested ../ path', zip: () => rawZip([file('a/../../evil.txt', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Relative path(s) outside of root folder' },
        { name: 'an absolute path', zip: () => rawZip([file('/etc/cron.d/evil', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Relative path(s) outside of root folder' },
        { name: 'a drive letter', zip: () => rawZip([file('C:/Windows/evil', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Relative path(s) outside of root folder' },
        { name: 'backslashes', zip: () => rawZip([file('..\\..\\evil', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: /^The app upload is invalid: Invalid file name/ },
        { name: 'a symlink out of the tree', zip: () => rawZip([file('ok.txt', 'x'), symlink('passwd', '../../../etc/passwd')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Symlink(s) point outside of root folder' },
        { name: 'an absolute symlink', zip: () => rawZip([symlink('root', '/')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Symlink(s) point outside of root folder' },
        {
          name: 'a symlink escaping through another symlink',
          // a/b -> .. is the root itself (fine); c -> a/b/.. looks like `a` lexically but is the root's parent
          zip: () => rawZip([file('a/x', 'x'), symlink('a/b', '..'), symlink('c', 'a/b/..')]),
          status: 400,
          title: 'CF-AppBitsUploadInvalid',
          detail: 'The app upload is invalid: Symlink(s) point outside of root folder',
        },
        { name: 'a file written through a symlink', zip: () => rawZip([symlink('d', 'sub'), file('sub/k', 'k'), file('d/x', 'x')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Symlink(s) point outside of root folder' },
        { name: 'a symlink loop', zip: () => rawZip([symlink('l1', 'l2'), symlink('l2', 'l1')]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: 'The app upload is invalid: Symlink(s) point outside of root folder' },
        { name: 'a zip bomb (20 MiB of zeros, ratio ~1000:1)', zip: () => rawZip([{ name: 'bomb', data: zeros(20 * MiB), deflate: true }]), status: 400, title: 'CF-AppPackageInvalid', detail: 'The app package is invalid: File "bomb" expands more than 200 times its compressed size' },
        {
          name: 'more unzipped bytes than allowed (70 x 1 MiB)',
          zip: () => rawZip(Array.from({ length: 70 }, (_, i) => ({ name: `f${i}`, data: zeros(MiB), deflate: true }))),
          status: 400,
          title: 'CF-AppPackageInvalid',
          detail: `The app package is invalid: Package may not be larger than ${64 * MiB} bytes`,
        },
        {
          name: 'a header that understates the size',
          zip: () => rawZip([{ name: 'liar', data: zeros(4 * MiB), deflate: true, declaredSize: 1000 }]),
          status: 400,
          title: 'CF-AppBitsUploadInvalid',
          detail: /^The app upload is invalid: Unzipping had errors: /,
        },
        { name: 'too many entries', zip: () => rawZip(Array.from({ length: 101 }, (_, i) => file(`f${i}`, 'x'))), status: 400, title: 'CF-AppPackageInvalid', detail: 'The app package is invalid: Package may not contain more than 100 files' },
        { name: 'random bytes', zip: () => crypto.randomBytes(4096), status: 400, title: 'CF-AppBitsUploadInvalid', detail: /^The app upload is invalid: Unzipping had errors: / },
        { name: 'a truncated zip', zip: () => appZip.subarray(0, appZip.length - 30), status: 400, title: 'CF-AppBitsUploadInvalid', detail: /^The app upload is invalid: Unzipping had errors: / },
        { name: 'a bad CRC', zip: () => rawZip([{ ...file('a.txt', 'hello'), crc: 12345 }]), status: 400, title: 'CF-AppBitsUploadInvalid', detail: "The app upload is invalid: Unzipping had errors: CRC mismatch for 'a.txt'" },
        { name: 'an encrypted entry', zip: () => encrypted(rawZip([file('secret.txt', 'x')])), status: 400, title: 'CF-AppBitsUploadInvalid', detail: "The app upload is invalid: Unzipping had errors: 'secret.txt' is encrypted" },
        { name: 'an oversized upload', zip: () => rawZip([{ name: 'big.bin', data: crypto.randomBytes(600 * 1024) }]), status: 400, title: 'CF-AppPackageInvalid', detail: `The app package is invalid: Package zip may not be larger than ${512 * 1024} bytes` },
      ]
      let victim: string
      before(async () => {
        victim = (await newPackage()).guid
      })
      for (const c of cases) {
        it(`refuses ${c.name}`, async () => {
          const r = await uploadBits(dev, victim, await c.zip())
          assert.equal(r.status, c.status, JSON.stringify(r.body))
          assert.equal(r.body.errors[0].title, c.title)
          if (typeof c.detail === 'string') assert.equal(r.body.errors[0].detail, c.detail)
          else assert.match(r.body.errors[0].detail, c.detail)
          const pkg = expectOk(await dev.get(`/v3/packages/${victim}`)).body
          assert.equal(pkg.state, 'AWAITING_UPLOAD')
          assert.equal(pkg.data.checksum.value, null)
        })
      }
      it('still takes a good zip for the same package afterwards', async () => {
        const r = await uploadBits(dev, victim, appZip)
        assert.equal(r.status, 200)
        okUploads++
        assert.equal(r.body.state, 'READY')
      })
    })

    it('materializes a droplet once, atomically and safely, and refuses tampered bits', async () => {
      // A second droplet whose blob is tampered with below.
      const pkg = await newPackage()
      const tamperedZip = rawZip([file('t.txt', 'tamper me')])
      assert.equal((await uploadBits(dev, pkg.guid, tamperedZip)).status, 200)
      okUploads++
      const tampered = expectOk(await dev.post('/v3/builds', { package: { guid: pkg.guid } }), 201).body.droplet.guid

      const blobCount = await withStore(server, async (q) => {
        const [row] = await q<{ n: number }>('select count(*)::int as n from blobs')
        await q(`update blob_chunks set data = decode('00', 'hex') where seq = 0 and blob_guid = (select blob_guid from droplets where guid = $1)`, [tampered])
        return Number(row!.n)
      })
      // Only accepted uploads left blobs; no rejected zip left anything.
      assert.equal(blobCount, okUploads)

      if (store === 'embedded') await server.stop()
      const opened = await openStore({ dataDir: server.dataDir, databaseUrl: server.databaseUrl })
      try {
        const cache = path.join(server.dataDir, 'test-droplet-cache')
        const dirs = await Promise.all(Array.from({ length: 5 }, () => materializeDroplet(opened.db, dropletGuid, cache)))
        const dir = path.join(cache, dropletGuid)
        assert.ok(dirs.every((d) => d === dir))
        assert.equal(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8'), 'payload\n')
        assert.equal(fs.statSync(path.join(dir, 'run.sh')).mode & 0o777, 0o755)
        assert.equal(fs.statSync(path.join(dir, 'data.txt')).mode & 0o777, 0o644)
        assert.equal(fs.readlinkSync(path.join(dir, 'lib/current')), 'v1')
        assert.equal(fs.readFileSync(path.join(dir, 'lib/current/util.sh'), 'utf8'), 'echo util\n')
        assert.ok(fs.statSync(path.join(dir, 'empty')).isDirectory())
        assert.equal(fs.readFileSync(path.join(dir, 'nested/deep/dir/file.txt'), 'utf8'), 'deep\n')
        assert.equal(fs.statSync(path.join(dir, 'zero.bin')).size, 0)
        // idempotent: a second call returns the same directory without extracting again
        const inode = fs.statSync(dir).ino
        fs.writeFileSync(path.join(dir, 'marker'), 'kept')
        assert.equal(await materializeDroplet(opened.db, dropletGuid, cache), dir)
        assert.equal(fs.statSync(dir).ino, inode)
        assert.equal(fs.readFileSync(path.join(dir, 'marker'), 'utf8'), 'kept')
        // tampered bits are refused and leave nothing behind
        await assert.rejects(materializeDroplet(opened.db, tampered, cache), /do not match their sha256/)
        await assert.rejects(materializeDroplet(opened.db, 'no-such-droplet', cache), /has no bits/)
        await assert.rejects(materializeDroplet(opened.db, '../escape', cache), /invalid droplet guid/)
        assert.deepEqual(fs.readdirSync(cache).sort(), [dropletGuid])

        // Blobs over several chunks and reads (1 MiB chunks, 4 per read) round-trip byte for byte.
        const big = crypto.randomBytes(20 * MiB + 123)
        const ref = await insertBlob(opened.db, big)
        assert.equal(ref.size, big.length)
        assert.ok((await readBlob(opened.db, ref.guid)).equals(big))
      } finally {
        await opened.close()
      }
    })
  })
}

/** Marks every entry of a zip as encrypted (general purpose bit 0) in both headers. */
function encrypted(zip: Buffer): Buffer {
  const out = Buffer.from(zip)
  for (let i = 0; i < out.length - 4; i++) {
    const sig = out.readUInt32LE(i)
    if (sig === 0x04034b50) out.writeUInt16LE(out.readUInt16LE(i + 6) | 1, i + 6)
    if (sig === 0x02014b50) out.writeUInt16LE(out.readUInt16LE(i + 8) | 1, i + 8)
  }
  return out
}

// Large uploads stream: a package far bigger than the server's working memory goes from the
// request to the database through a spool file and bounded buffers, and comes back byte for byte.
// RSS is read from the real server process (/proc/PID/status), sampled throughout the upload.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, before, describe, it } from 'node:test'
import yazl from 'yazl'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const MiB = 1024 * 1024
/** The package: a stored (incompressible) zip of random bytes, written to disk, never held whole. */
const UPLOAD_MIB = Number(process.env.TEST_UPLOAD_MIB ?? 100)
/**
 * Allowed RSS growth over the idle server while the upload is read, checked, stored and
 * downloaded. Measured (docs/performance.md): +90 MiB on PostgreSQL and +113–136 MiB embedded
 * for 100 MiB, about the same for 200 MiB (garbage the collector has not taken yet, and the
 * embedded store's buffers); holding the body whole cost ~3× its size.
 */
const MAX_GROWTH_MIB = 150

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!
  return Number(kb) / 1024
}

/** Samples the process's RSS every 50 ms while `work` runs; returns the peak. */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssMiB(pid)
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50)
  try {
    const result = await work()
    return { result, peak: Math.max(peak, rssMiB(pid)) }
  } finally {
    clearInterval(timer)
  }
}

async function writeBigZip(file: string, mib: number): Promise<string> {
  const hash = crypto.createHash('sha256')
  const zip = new yazl.ZipFile()
  const data = Readable.from((function* () { for (let i = 0; i < mib; i++) yield crypto.randomBytes(MiB) })()) // prettier-ignore
  zip.addReadStream(data, 'blob.bin', { compress: false, size: mib * MiB })
  zip.addBuffer(Buffer.from('echo big\n'), 'run.sh', { mode: 0o755 })
  zip.end()
  await pipeline(zip.outputStream, async function* (source) {
    for await (const c of source) {
      hash.update(c as Buffer)
      yield c
    }
  }, fs.createWriteStream(file)) // prettier-ignore
  return hash.digest('hex')
}

async function upload(api: Api, guid: string, body: Blob) {
  const form = new FormData()
  form.append('resources', '[]')
  form.append('bits', body, 'package.zip')
  const res = await fetch(`${api.url}/v3/packages/${guid}/upload`, { method: 'POST', headers: { authorization: `bearer ${api.token}` }, body: form })
  return { status: res.status, body: await res.json() }
}

async function downloadSha256(api: Api, pathname: string): Promise<{ status: number; sha256: string; bytes: number }> {
  const res = await fetch(`${api.url}${pathname}`, { headers: { authorization: `bearer ${api.token}` } })
  const hash = crypto.createHash('sha256')
  let bytes = 0
  for await (const c of res.body!) {
    hash.update(c)
    bytes += c.length
  }
  return { status: res.status, sha256: hash.digest('hex'), bytes }
}

for (const store of stores()) {
  describe(`streamed uploads [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let appGuid: string
    let zipFile: string
    let zipSha: string

    const newPackage = async () =>
      expectOk(await admin.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } }), 201).body.guid as string
    const spooled = () => fs.readdirSync(path.join(server.dataDir, 'uploads'))

    before(async () => {
      // With the young generation `npm start` gives the server (package.json), not V8's default.
      server = await startServer(store, { env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=2` } })
      admin = await new Api(server.url).admin()
      const { spaceGuid } = await createOrgAndSpace(admin, 'up-org', 'up-space')
      appGuid = expectOk(await admin.post('/v3/apps', { name: 'big', relationships: { space: { data: { guid: spaceGuid } } } }), 201).body.guid
      zipFile = path.join(server.dataDir, '..', `big-${store}.zip`)
      zipSha = await writeBigZip(zipFile, UPLOAD_MIB)
    })
    after(async () => {
      await server.stop()
      fs.rmSync(zipFile, { force: true })
    })

    it('refuses damaged zips with CF errors and leaves no spool files', async () => {
      const junk = await upload(admin, await newPackage(), new Blob([crypto.randomBytes(3 * MiB)]))
      assert.equal(junk.status, 400, JSON.stringify(junk.body))
      assert.equal(junk.body.errors[0].title, 'CF-AppBitsUploadInvalid')
      assert.match(junk.body.errors[0].detail, /^The app upload is invalid: Unzipping had errors: /)
      // The big zip cut short: its central directory is gone.
      const cut = await upload(admin, await newPackage(), (await fs.openAsBlob(zipFile)).slice(0, 5 * MiB))
      assert.equal(cut.status, 400, JSON.stringify(cut.body))
      assert.equal(cut.body.errors[0].title, 'CF-AppBitsUploadInvalid')
      assert.deepEqual(spooled(), [])
    })

    it(`stores a ${UPLOAD_MIB} MiB package with bounded RSS and gives the same bytes back`, async () => {
      const pid = server.process.pid!
      const guid = await newPackage()
      const idle = rssMiB(pid)
      const { result: up, peak } = await peakRssDuring(pid, async () => {
        const up = await upload(admin, guid, await fs.openAsBlob(zipFile))
        const down = await downloadSha256(admin, `/v3/packages/${guid}/download`)
        return { up, down }
      })
      assert.equal(up.up.status, 200, JSON.stringify(up.up.body))
      assert.equal(up.up.body.state, 'READY')
      assert.equal(up.up.body.data.checksum.value, zipSha)
      assert.equal(up.down.status, 200)
      assert.equal(up.down.bytes, fs.statSync(zipFile).size)
      assert.equal(up.down.sha256, zipSha)
      assert.ok(peak - idle <= MAX_GROWTH_MIB, `RSS grew ${Math.round(peak - idle)} MiB (idle ${Math.round(idle)}, peak ${Math.round(peak)}) for a ${UPLOAD_MIB} MiB upload`)
      assert.deepEqual(spooled(), [])

      // Staging reads only the zip's directory; the droplet downloads the same bytes.
      const build = expectOk(await admin.post('/v3/builds', { package: { guid } }), 201).body
      const droplet = expectOk(await admin.get(`/v3/builds/${build.guid}`)).body.droplet.guid
      const down = await downloadSha256(admin, `/v3/droplets/${droplet}/download`)
      assert.equal(down.status, 200)
      assert.equal(down.sha256, zipSha)
    })
  })
}

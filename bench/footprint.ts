// Footprint: idle RSS, idle CPU and start-to-listening of the built server on both stores, next to
// a bare `node` process and a bare PGlite open; RSS after N tasks; peak RSS during concurrent uploads.
//   npm run bench -- footprint [--tasks 1000] [--uploads 6] [--upload-mib 120] [--stores postgres,embedded]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import yazl from 'yazl'
import { freePort, startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp } from '../test/support/push.ts'

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    uploads: { type: 'string', default: '6' },
    'upload-mib': { type: 'string', default: '120' },
    stores: { type: 'string', default: 'postgres,embedded' },
  },
})
const root = path.resolve(import.meta.dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-footprint-'))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mib = (kb: number) => Math.round(kb / 1024)

/** Resident set of a process (its threads included), KiB. */
function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

/** Starts a process, waits for `ready` on its stdout; returns it and the milliseconds that took. */
async function launch(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
  command = process.execPath,
): Promise<{ child: ChildProcess; ms: number; out: () => string }> {
  const t0 = performance.now()
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => ready.test(out) && resolve())
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
  return { child, ms: performance.now() - t0, out: () => out }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const done = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await done
}

/** CPU time of a process (all its threads), in clock ticks (1/100 s). */
function cpuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of proc(5))
}

async function idleRss(child: ChildProcess): Promise<number> {
  await sleep(5000)
  return rssKb(child.pid!)
}

/** RSS 5 s after start (KiB), then the percentage of a core it used over the next 5 s, idle. */
async function idle(child: ChildProcess): Promise<{ rssKb: number; cpu: string }> {
  const rss = await idleRss(child)
  const t0 = cpuTicks(child.pid!)
  await sleep(5000)
  return { rssKb: rss, cpu: ((cpuTicks(child.pid!) - t0) / 5).toFixed(1) }
}

const idleCells = async (child: ChildProcess) => {
  const i = await idle(child)
  return [mib(i.rssKb), i.cpu]
}


/** A stored (uncompressed) zip of random bytes: what a large, incompressible app package looks like. */
async function bigZip(file: string, bytes: number): Promise<void> {
  const zip = new yazl.ZipFile()
  const chunk = crypto.randomBytes(1024 * 1024)
  const parts = Math.ceil(bytes / chunk.length)
  const { Readable } = await import('node:stream')
  zip.addReadStream(Readable.from((function* () { for (let i = 0; i < parts; i++) yield chunk })()), 'blob.bin', { compress: false, size: parts * chunk.length })
  zip.end()
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(fs.createWriteStream(file)).on('finish', resolve).on('error', reject))
  // On disk before any start is timed: its writeback would otherwise land in the first start's
  // commits (PostgreSQL's WAL flushes queue behind it).
  const fd = fs.openSync(file, 'r')
  fs.fsyncSync(fd)
  fs.closeSync(fd)
}

async function upload(api: Api, guid: string, file: string): Promise<number> {
  const form = new FormData()
  form.append('resources', '[]')
  form.append('bits', await fs.openAsBlob(file), 'package.zip')
  const res = await fetch(`${api.url}/v3/packages/${guid}/upload`, { method: 'POST', headers: { authorization: `bearer ${api.token}` }, body: form })
  await res.arrayBuffer()
  return res.status
}

const bundleDir = path.join(root, 'dist', 'bundle')

/** A new, empty database on the cluster; its URL. */
async function createDatabase(url: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(`create database ${name}`)
  await c.end()
  return url.replace(/\/[^/]*$/, `/${name}`)
}

const rows: string[][] = []
const row = (...cells: (string | number)[]) => rows.push(cells.map(String))

if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })

// Baselines, measured in the same run.
{
  const bare = await launch(['-e', 'console.log("ready"); setInterval(() => {}, 1 << 30)'], /ready/)
  row('bare node -e', Math.round(bare.ms), ...(await idleCells(bare.child)), '', '')
  await stop(bare.child)
  const dir = path.join(work, 'bare-pglite')
  const script = `import('@electric-sql/pglite').then(async ({ PGlite }) => { const db = await PGlite.create(${JSON.stringify(dir)}); await db.query('select 1'); console.log('ready'); setInterval(() => {}, 1 << 30) })`
  const fresh = await launch(['--input-type=module', '-e', script], /ready/)
  row('bare PGlite create (fresh dir)', Math.round(fresh.ms), ...(await idleCells(fresh.child)), '', '')
  await stop(fresh.child)
  const reopen = await launch(['--input-type=module', '-e', script], /ready/)
  row('bare PGlite open (existing dir)', Math.round(reopen.ms), ...(await idleCells(reopen.child)), '', '')
  await stop(reopen.child)
}

const zipFile = path.join(work, 'big.zip')
await bigZip(zipFile, Number(values['upload-mib']) * 1024 * 1024)

for (const store of values.stores!.split(',')) {
  const cluster = store === 'postgres' ? startCluster(path.join(os.tmpdir(), `cf-ledger-footprint-pg-${await freePort()}`), await freePort()) : undefined
  try {
    const dataDir = path.join(work, `data-${store}`)
    const env = { ...process.env, CF_LEDGER_ADMIN_PASSWORD: 'admin-secret', CF_LEDGER_LOG_LEVEL: 'error', ...(cluster ? { DATABASE_URL: cluster.url } : {}) }
    delete (env as Record<string, unknown>).NODE_OPTIONS
    // As `npm start`: bin/cf-ledger execs node with the runtime flags, so the pid stays the server's.
    const cli = path.join(root, 'bin', 'cf-ledger')
    const args = ['serve', '--port', '0', '--data-dir', dataDir]
    {
      // The first start after a build compiles the whole bundle and, 3 s in, writes V8's code cache
      // (src/cli/boot.ts); every row of this store after it starts with it (each store runs with
      // its own V8 flags, bin/cf-ledger, so each has a cache of its own).
      for (const f of fs.readdirSync(bundleDir)) if (f.endsWith('.v8-cache')) fs.rmSync(path.join(bundleDir, f))
      const cold = await launch(['serve', '--port', '0', '--data-dir', path.join(work, `cold-${store}`)], /listening on/, store === 'postgres' ? { ...env, DATABASE_URL: await createDatabase(cluster!.url, 'cold') } : env, cli)
      row(`cf-ledger ${store}, first start after a build (no code cache)`, Math.round(cold.ms), ...(await idleCells(cold.child)), '', '')
      await stop(cold.child)
    }
    const server = await launch(args, /listening on/, env, cli)
    const url = /listening on (\S+)/.exec(server.out())![1]!
    const quiet = await idle(server.child)
    const admin = await new Api(url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'o', 's')
    const app = await pushApp(admin, spaceGuid, 'app')

    // N tasks, 16 callers, then wait for the queue to drain and the process to settle.
    const n = Number(values.tasks)
    let next = 0
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          next++
          expectOk(await admin.post(`/v3/apps/${app}/tasks`, { command: 'true' }), 202)
        }
      }),
    )
    for (;;) {
      const pending = expectOk(await admin.get(`/v3/tasks?states=PENDING,RUNNING&per_page=1`)).body.pagination.total_results
      if (pending === 0) break
      await sleep(500)
    }
    const afterTasks = await idleRss(server.child)

    // Concurrent large uploads; RSS sampled every 100 ms.
    const guids: string[] = []
    for (let i = 0; i < Number(values.uploads); i++) {
      guids.push(expectOk(await admin.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app } } } }), 201).body.guid)
    }
    let peak = rssKb(server.child.pid!)
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(server.child.pid!))), 100)
    const statuses = await Promise.all(guids.map((g) => upload(admin, g, zipFile)))
    clearInterval(sampler)
    peak = Math.max(peak, rssKb(server.child.pid!))
    row(`cf-ledger ${store}`, Math.round(server.ms), mib(quiet.rssKb), quiet.cpu, `${mib(afterTasks)} (+${mib(afterTasks - quiet.rssKb)})`, `${mib(peak)} (+${mib(peak - afterTasks)}; uploads ${[...new Set(statuses)].join('/')})`)
    await stop(server.child)
    // A restart on the same store, now holding the tasks and packages: every later start.
    const again = await launch(args, /listening on/, env, cli)
    row(`cf-ledger ${store}, restarted`, Math.round(again.ms), ...(await idleCells(again.child)), '', '')
    await stop(again.child)
  } finally {
    cluster?.stop()
  }
}

console.log(`\n${values.tasks} tasks; ${values.uploads} concurrent uploads of ${values['upload-mib']} MiB\n`)
console.log('| process | start→listening ms | idle RSS MiB | idle CPU % of a core | RSS after tasks MiB | peak RSS during uploads MiB |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
fs.rmSync(work, { recursive: true, force: true })

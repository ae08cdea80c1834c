// Start to `listening` of the built server (bin/cf-ledger, as `npm start`) with and without V8's
// code cache (src/cli/boot.ts), interleaved, next to a bare `node -e` spawn measured in the same
// rounds. Every start gets its own new PostgreSQL database or embedded data directory; each is
// killed at `listening`, before it could write a cache, so the two kinds stay what they are.
//   npm run bench -- start [--rounds 8] [--stores postgres,embedded]
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { freePort, startCluster } from '../scripts/pg-cluster.ts'
import { benchArgs } from './args.ts'
import { fmt, table } from './stats.ts'

const args = benchArgs({ rounds: '8', stores: 'postgres,embedded' })
const root = path.resolve(import.meta.dirname, '..')
const cli = path.join(root, 'bin', 'cf-ledger')
const bundle = path.join(root, 'dist', 'bundle')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-start-'))
const port = await freePort()
const cluster = args.list('stores').includes('postgres') ? startCluster(path.join(os.tmpdir(), `cf-ledger-start-pg-${port}`), port) : undefined

/** Milliseconds from spawn until `ready` shows on stdout; the process is then killed (or kept `keepMs`). */
async function timed(command: string, argv: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, keepMs = 0): Promise<number> {
  const t0 = performance.now()
  const child = spawn(command, argv, { cwd: root, env: { ...process.env, CF_LEDGER_ADMIN_PASSWORD: 'admin-secret', CF_LEDGER_LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stderr!.on('data', (d) => (out += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      if (ready.test(out)) resolve()
    })
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
  const ms = performance.now() - t0
  if (keepMs) await new Promise((r) => setTimeout(r, keepMs))
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
  return ms
}

let databases = 0
async function newDatabase(): Promise<string> {
  const c = new pg.Client({ connectionString: cluster!.url })
  await c.connect()
  const name = `start_${databases++}`
  await c.query(`create database ${name}`)
  await c.end()
  return cluster!.url.replace(/\/[^/]*$/, `/${name}`)
}

let dirs = 0
async function serve(store: string): Promise<number> {
  const env = store === 'postgres' ? { DATABASE_URL: await newDatabase() } : {}
  return timed(cli, ['serve', '--port', '0', '--data-dir', path.join(work, `d${dirs++}`)], /listening on/, env)
}

const caches = () => fs.readdirSync(bundle).filter((f) => f.endsWith('.v8-cache'))
try {
  if (!fs.existsSync(path.join(bundle, 'boot.js'))) throw new Error('no build: run npm run build first')
  for (const f of caches()) fs.rmSync(path.join(bundle, f))
  // The first server after a build writes the cache 3 s into its run. The stores run with their
  // own V8 flags (bin/cf-ledger), so each has a cache of its own.
  const cacheOf = new Map<string, string>()
  for (const store of args.list('stores')) {
    const before = new Set(caches())
    await timed(cli, ['serve', '--port', '0', '--data-dir', path.join(work, `warm-${store}`)], /listening on/, store === 'postgres' ? { DATABASE_URL: await newDatabase() } : {}, 4000)
    const made = caches().find((f) => !before.has(f))
    if (!made) throw new Error(`the first ${store} server wrote no code cache`)
    cacheOf.set(store, made)
  }
  const samples: Record<string, number[]> = {}
  const add = (k: string, v: number) => (samples[k] ??= []).push(v)
  for (let i = 0; i < args.num('rounds'); i++) {
    process.stdout.write(`round ${i + 1}/${args.num('rounds')}\r`)
    add('bare', await timed(process.execPath, ['-e', 'console.log("ready")'], /ready/))
    for (const store of args.list('stores')) {
      const cache = cacheOf.get(store)!
      const aside = path.join(work, cache)
      add(`${store} cache`, await serve(store))
      fs.renameSync(path.join(bundle, cache), aside)
      try {
        add(`${store} none`, await serve(store))
      } finally {
        fs.renameSync(aside, path.join(bundle, cache))
      }
    }
  }
  const median = (k: string) => {
    const s = [...samples[k]!].sort((a, b) => a - b)
    return s[s.length >> 1]!
  }
  const range = (k: string) => `${Math.round(Math.min(...samples[k]!))}–${Math.round(Math.max(...samples[k]!))}`
  console.log(`\n${args.num('rounds')} rounds; bare node -e median ${Math.round(median('bare'))} ms (${range('bare')})\n`)
  table(
    ['start (new database / fresh data dir)', 'no code cache ms', 'code cache ms', 'ratio', 'cache − bare node ms'],
    args.list('stores').map((s) => [s, `${Math.round(median(`${s} none`))} (${range(`${s} none`)})`, `${Math.round(median(`${s} cache`))} (${range(`${s} cache`)})`, fmt(median(`${s} cache`) / median(`${s} none`)), String(Math.round(median(`${s} cache`) - median('bare')))]),
  )
} finally {
  cluster?.stop()
  fs.rmSync(work, { recursive: true, force: true })
}

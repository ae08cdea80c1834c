// The test entry point (`npm test`): typecheck, lint, bundle the server, start a real PostgreSQL on
// loopback, then run every test file against both stores with node's test runner,
// in one process (or one per store side by side), and list the slowest suites at the end.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, startCluster } from '../scripts/pg-cluster.ts'
import { createMigratedTemplate } from './support/pg-template.ts'

const root = path.resolve(import.meta.dirname, '..')
const step = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  console.log(`\n== ${name}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env })
  if (r.status !== 0) {
    console.error(`${name} failed (exit ${r.status})`)
    process.exit(r.status ?? 1)
  }
}

const only = process.argv.slice(2)
if (!only.length) {
  step('typecheck', 'npx', ['tsc', '--noEmit'])
  step('lint', 'npx', ['eslint', '--max-warnings=0', 'src', 'test', 'bench', 'scripts'])
}
// The servers and CLIs under test are the product as shipped: bin/cf-ledger over the bundle, built
// from the sources now (about 2 s) so no test runs a stale build. Starting the bundle costs a
// third of the CPU of loading the sources through tsx, and the suites start hundreds of servers.
step('bundle', 'npm', ['run', '--silent', 'bundle'])
if (!fs.existsSync(path.join(root, 'dist', 'pglite-template'))) step('embedded template', 'npm', ['run', '--silent', 'template'])

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-test-'))
const env: NodeJS.ProcessEnv = { ...process.env, CF_LEDGER_TEST_TMP: work }
let cluster
if (process.env.TEST_DATABASE_URL) {
  env.TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
} else if (process.env.TEST_STORES !== 'embedded') {
  const port = await freePort()
  console.log(`== starting PostgreSQL on 127.0.0.1:${port}`)
  cluster = startCluster(path.join(os.tmpdir(), `cf-ledger-pg-${port}`), port)
  env.TEST_DATABASE_URL = cluster.url
}
env.TEST_STORES = process.env.TEST_STORES ?? 'postgres,embedded'
if (env.TEST_DATABASE_URL && env.TEST_STORES.includes('postgres')) env.TEST_TEMPLATE_DATABASE = await createMigratedTemplate(env.TEST_DATABASE_URL)

// The files that take longest, longest first, so no long file starts last and runs alone while
// the other slot idles (seconds for both stores in the run of 2026-12-02: docs/testing.md).
const LONGEST = ['fuzz', 'export', 'console', 'cf-cli', 'collect', 'audit-stress', 'cluster', 'audit-events']
const rank = (f: string) => {
  const i = LONGEST.indexOf(f.replace(/\.test\.ts$/, ''))
  return i < 0 ? LONGEST.length : i
}
const files = only.length
  ? only
  : fs
      .readdirSync(path.join(root, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
      .map((f) => path.join('test', f))
// One test process for both stores; TEST_PARALLEL_STORES=1 runs one process per store side by side
// (faster, but the same file then starts its receivers and servers in both at once: see testing.md).
// Files that do not loop over the stores (unit tests) run once, with the first store.
const stores = env.TEST_STORES.split(',').filter(Boolean)
const parallel = stores.length > 1 && process.env.TEST_PARALLEL_STORES === '1'
const loopsOverStores = (f: string) => fs.readFileSync(path.join(root, f), 'utf8').includes('stores()')
const runs = parallel
  ? stores.map((store, i) => ({ label: store, stores: store, files: i === 0 ? files : files.filter(loopsOverStores) }))
  : [{ label: '', stores: env.TEST_STORES, files }]

/** Top-level suites and how long each took, read off the spec reporter's lines as they pass. */
const suiteTimes: [string, number][] = []
const TOP_LEVEL = /^[✔✖] (.+) \(([\d.]+)ms\)$/

function runTests(r: (typeof runs)[number]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 3}`, '--test-reporter=spec', ...r.files], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, TEST_STORES: r.stores },
  })
  // Whole lines, each marked with its store when two runs go side by side, so they read apart.
  const prefix = r.label ? `[${r.label}] ` : ''
  for (const stream of [child.stdout!, child.stderr!]) {
    const out = stream === child.stdout ? process.stdout : process.stderr
    let rest = ''
    const line = (l: string) => {
      const m = TOP_LEVEL.exec(l)
      if (m) suiteTimes.push([m[1]!, Number(m[2])])
      out.write(`${prefix}${l}\n`)
    }
    stream.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n')
      rest = lines.pop()!
      lines.forEach(line)
    })
    stream.on('end', () => rest && line(rest))
  }
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)))
}

let status = 1
try {
  console.log(`\n== tests (${env.TEST_STORES}${parallel ? ', one process per store' : ''}): ${files.length} files`)
  const started = Date.now()
  const codes = await Promise.all(runs.map(runTests))
  for (const [i, r] of runs.entries()) if (r.label) console.log(`== ${r.label}: ${codes[i] === 0 ? 'passed' : `failed (exit ${codes[i]})`}`)
  console.log('\n== slowest suites (s)')
  for (const [name, ms] of suiteTimes.sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${(ms / 1000).toFixed(1).padStart(7)}  ${name}`)
  console.log(`== tests took ${Math.round((Date.now() - started) / 1000)} s`)
  status = codes.every((c) => c === 0) ? 0 : 1
} finally {
  cluster?.stop()
  fs.rmSync(work, { recursive: true, force: true })
}
process.exit(status)

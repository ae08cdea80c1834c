// The test entry point (`npm test`): typecheck, lint, start a real PostgreSQL on loopback, prepare an
// embedded-store template, then run every test file against both stores with node's test runner.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, startCluster } from '../scripts/pg-cluster.ts'

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

const files = only.length
  ? only
  : fs
      .readdirSync(path.join(root, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => path.join('test', f))
let status = 1
try {
  console.log(`\n== tests (${env.TEST_STORES}): ${files.length} files`)
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
    { cwd: root, stdio: 'inherit', env },
  )
  status = r.status ?? 1
} finally {
  cluster?.stop()
  fs.rmSync(work, { recursive: true, force: true })
}
process.exit(status)

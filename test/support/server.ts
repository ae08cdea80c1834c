// Starts the real server as a child process on a loopback port, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'

export type StoreKind = 'postgres' | 'embedded'

export function stores(): StoreKind[] {
  return (process.env.TEST_STORES ?? 'embedded').split(',').filter(Boolean) as StoreKind[]
}

export const ADMIN_PASSWORD = 'admin-secret'
const root = path.resolve(import.meta.dirname, '..', '..')
/** The product's command, as an operator runs it: the bundle `test/run.ts` builds before the tests. */
export const CLI = path.join(root, 'bin', 'cf-ledger')

export interface TestServer {
  readonly url: string
  readonly store: StoreKind
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  readonly process: ChildProcess
  readonly output: () => string
  stop(signal?: NodeJS.Signals): Promise<void>
  restart(): Promise<TestServer>
}

/**
 * A fresh database (PostgreSQL) or data directory (embedded) per server. Both start migrated, from
 * a template (test/run.ts's database, the build's data directory) unless `empty` asks for a
 * PostgreSQL database the server must migrate itself.
 */
export async function freshStore(store: StoreKind, opts: { empty?: boolean } = {}): Promise<{ dataDir: string; databaseUrl?: string }> {
  const tmp = process.env.CF_LEDGER_TEST_TMP ?? fs.mkdtempSync('/tmp/cf-ledger-')
  const dataDir = path.join(tmp, `data-${crypto.randomUUID().slice(0, 8)}`)
  if (store === 'embedded') return { dataDir }
  const base = process.env.TEST_DATABASE_URL
  if (!base) throw new Error('TEST_DATABASE_URL is not set; run the tests with `npm test`')
  const name = `t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`
  const client = new pg.Client({ connectionString: base })
  await client.connect()
  const template = opts.empty ? undefined : process.env.TEST_TEMPLATE_DATABASE
  await client.query(`create database ${name}${template ? ` template ${template}` : ''}`)
  await client.end()
  return { dataDir, databaseUrl: base.replace(/\/[^/]*$/, `/${name}`) }
}

export async function startServer(
  store: StoreKind,
  opts: { env?: Record<string, string>; dataDir?: string; databaseUrl?: string; port?: number } = {},
): Promise<TestServer> {
  const fresh = opts.dataDir ? { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl } : await freshStore(store)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CF_LEDGER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    CF_LEDGER_LOG_LEVEL: 'error',
    ...opts.env,
  }
  delete env.DATABASE_URL
  if (fresh.databaseUrl) env.DATABASE_URL = fresh.databaseUrl
  const child = spawn(CLI, ['serve', '--port', String(opts.port ?? 0), '--host', '127.0.0.1', '--data-dir', fresh.dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded 2-core machine can take a minute to start an embedded store.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start in 180 s:\n${out}`))
    }, 180_000)
    const check = () => {
      const m = /cf-ledger listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${out}`))
    })
  })
  const server: TestServer = {
    url,
    store,
    dataDir: fresh.dataDir,
    databaseUrl: fresh.databaseUrl,
    process: child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill(signal)
      await exited
    },
    restart: () => startServer(store, { ...opts, dataDir: fresh.dataDir, databaseUrl: fresh.databaseUrl }),
  }
  return server
}

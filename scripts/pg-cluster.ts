// Starts (or stops) a throwaway PostgreSQL cluster on a loopback port, for tests and benchmarks.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import path from 'node:path'

function binDir(): string {
  const root = '/usr/lib/postgresql'
  if (!fs.existsSync(root)) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)')
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
  versions.sort((a, b) => Number(a) - Number(b))
  if (!versions.length) throw new Error('pg_ctl not found under /usr/lib/postgresql/*/bin')
  return path.join(root, versions.at(-1)!, 'bin')
}

function asPostgresUser(): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
}

function run(cmd: string[]): void {
  execFileSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] })
}

export interface Cluster {
  readonly url: string
  /** Stops the server (`fast` or `immediate`), stays down for `downMs`, starts it again. */
  restart(mode: 'fast' | 'immediate', downMs?: number): Promise<void>
  down(mode: 'fast' | 'immediate'): Promise<void>
  up(): Promise<void>
  stop(): void
}

export function startCluster(dir: string, port: number): Cluster {
  const bin = binDir()
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir])
  const su = asPostgresUser()
  run([...su, path.join(bin, 'initdb'), '-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '-N'])
  const pgCtl = [...su, path.join(bin, 'pg_ctl'), '-D', path.join(dir, 'data')]
  const startArgs = ['-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=300 -c fsync=on`, 'start']
  // Asynchronous, so that a test's own requests keep running while PostgreSQL is away.
  const ctl = async (...args: string[]) => {
    await promisify(execFile)(pgCtl[0]!, [...pgCtl.slice(1), ...args])
  }
  run([...pgCtl, ...startArgs])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    down: (mode) => ctl('-m', mode, '-w', 'stop'),
    up: () => ctl(...startArgs),
    async restart(mode, downMs = 0) {
      await ctl('-m', mode, '-w', 'stop')
      await new Promise((r) => setTimeout(r, downMs))
      await ctl(...startArgs)
    },
    stop() {
      try {
        run([...pgCtl, '-m', 'immediate', '-w', 'stop'])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** A loopback TCP port nobody listens on right now, so several runs can each start a cluster. */
export async function freePort(): Promise<number> {
  const net = await import('node:net')
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

// What the collector is told (docs/collect.md): the foundations to read, from one JSON file, and
// the collection settings from the settings table.
import fs from 'node:fs'
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

export interface FoundationConfig {
  /** Shown with every collected run; lower case letters, digits and dashes. */
  readonly name: string
  /** The Cloud Controller API root, e.g. https://api.sys.example.com. */
  readonly api: string
  readonly clientId: string
  readonly clientSecret: string
  /** PEM CA certificates trusted for the API, UAA and log-cache; undefined = Node's store. */
  readonly ca: string | undefined
  /** Labs only: accept any certificate. */
  readonly skipSslValidation: boolean
  /** Where task output comes from: the incoming syslog drain (default) or polling log-cache. */
  readonly logs: 'drain' | 'log-cache'
}

export interface DrainListenConfig {
  readonly host: string
  readonly tcpPort: number | undefined
  readonly tls: { readonly port: number; readonly cert: string; readonly key: string } | undefined
}

export interface CollectConfig {
  readonly foundations: readonly FoundationConfig[]
  readonly intervalMs: number
  readonly overlapSeconds: number
  readonly rescanSeconds: number
  readonly outputGraceMs: number
  readonly drain: DrainListenConfig
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

function foundationOf(raw: unknown, i: number, file: string, env: Env): FoundationConfig {
  const where = `${file}: foundations[${i}]`
  if (!raw || typeof raw !== 'object') throw new Error(`${where} must be an object`)
  const f = raw as Record<string, unknown>
  const known = new Set(['name', 'api', 'client_id', 'client_secret', 'client_secret_env', 'ca_file', 'skip_ssl_validation', 'logs'])
  const unknown = Object.keys(f).filter((k) => !known.has(k))
  if (unknown.length) throw new Error(`${where} has unknown field(s): ${unknown.join(', ')}`)
  const str = (k: string) => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined)
  const name = str('name')
  if (!name || !NAME.test(name)) throw new Error(`${where}.name must be lower case letters, digits and dashes (up to 63), got ${JSON.stringify(f.name)}`)
  const api = str('api')?.replace(/\/+$/, '')
  if (!api || !/^https?:\/\/[^/]+$/.test(api)) throw new Error(`${where}.api must be the API root like https://api.sys.example.com, got ${JSON.stringify(f.api)}`)
  const clientId = str('client_id')
  if (!clientId) throw new Error(`${where}.client_id is required (a UAA client with the client_credentials grant; docs/collect.md)`)
  const secretEnv = str('client_secret_env')
  const clientSecret = secretEnv ? env[secretEnv] : str('client_secret')
  if (clientSecret === undefined) throw new Error(secretEnv ? `${where}.client_secret_env names ${secretEnv}, which is not set` : `${where}.client_secret (or client_secret_env) is required`)
  const caFile = str('ca_file')
  let ca: string | undefined
  if (caFile) {
    try {
      ca = fs.readFileSync(caFile, 'utf8')
    } catch (err) {
      throw new Error(`${where}.ca_file: cannot read ${caFile}: ${(err as Error).message}`)
    }
  }
  if (f.skip_ssl_validation !== undefined && typeof f.skip_ssl_validation !== 'boolean') throw new Error(`${where}.skip_ssl_validation must be true or false`)
  if (f.logs !== undefined && f.logs !== 'drain' && f.logs !== 'log-cache') throw new Error(`${where}.logs must be "drain" or "log-cache", got ${JSON.stringify(f.logs)}`)
  return { name, api, clientId, clientSecret, ca, skipSslValidation: f.skip_ssl_validation === true, logs: f.logs === 'log-cache' ? 'log-cache' : 'drain' }
}

/** Reads and checks the foundations file; every problem names the file and the field. */
export function loadFoundations(file: string, env: Env = process.env): FoundationConfig[] {
  let doc: unknown
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  const list = (doc as { foundations?: unknown } | null)?.foundations
  if (!Array.isArray(list) || !list.length) throw new Error(`${file} must be {"foundations": [{"name", "api", "client_id", "client_secret"}, …]} with at least one foundation`)
  const out = list.map((f, i) => foundationOf(f, i, file, env))
  const names = out.map((f) => f.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup) throw new Error(`${file}: foundation name '${dup}' is used twice`)
  return out
}

/** The collector's configuration, or undefined when no foundations file is set. */
export function loadCollectConfig(env: Env = process.env, flag?: string): CollectConfig | undefined {
  const get = reader(env)
  const file = get(S.collectConfig, flag)
  if (!file) return undefined
  const tlsPort = get(S.collectDrainTlsPort)
  const cert = get(S.collectDrainTlsCert)
  const key = get(S.collectDrainTlsKey)
  if (tlsPort !== undefined && (!cert || !key)) throw new Error('CF_LEDGER_COLLECT_DRAIN_TLS_PORT needs CF_LEDGER_COLLECT_DRAIN_TLS_CERT and CF_LEDGER_COLLECT_DRAIN_TLS_KEY')
  return {
    foundations: loadFoundations(file, env),
    intervalMs: get(S.collectIntervalMs),
    overlapSeconds: get(S.collectOverlapSeconds),
    rescanSeconds: get(S.collectRescanSeconds),
    outputGraceMs: get(S.collectOutputGraceMs),
    drain: {
      host: get(S.collectDrainHost),
      tcpPort: get(S.collectDrainPort),
      tls: tlsPort === undefined ? undefined : { port: tlsPort, cert: fs.readFileSync(cert!, 'utf8'), key: fs.readFileSync(key!, 'utf8') },
    },
  }
}

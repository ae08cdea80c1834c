// App manifests for `POST /v3/spaces/:guid/actions/apply_manifest` and `manifest_diff`, after
// CC's SpaceManifestsController#parsed_yaml and AppManifestMessage. YAML is read as YAML 1.1
// (CC uses Psych), anchors and aliases are refused, unknown keys are ignored, keys may be written
// with hyphens or underscores, and every error names its application.
import YAML from 'yaml'
import { checkBodyText } from './validate.ts'
import { apiError, unprocessable, type ApiError } from '../errors/api-error.ts'
import { redactManifestApplication } from '../audit/redaction.ts'
import { metadataSchema, type MetadataPatch } from './metadata.ts'
import { exceedsMax, MAX_DB_BIGINT, MAX_DB_INT, tooLarge } from './numbers.ts'

export const MAX_MANIFEST_BYTES = 1024 * 1024

export interface HealthCheckUpdate {
  readonly type?: string
  readonly endpoint?: string
  readonly timeout?: number
  readonly invocationTimeout?: number
  readonly interval?: number
}

/** What a manifest asks of one process type; `undefined` fields are left alone. */
export interface ManifestProcess {
  readonly type: string
  /** `null` resets the command to the droplet's. */
  readonly command?: string | null
  readonly instances?: number
  readonly memoryInMb?: number
  readonly diskInMb?: number
  readonly logRateLimit?: number
  readonly healthCheck?: HealthCheckUpdate
  /** CC's ManifestProcessScaleMessage / ManifestProcessUpdateMessage audit hashes. */
  readonly scaleRequest: Record<string, number>
  readonly updateRequest: Record<string, unknown>
  /** Process entries always update and scale; app-level attributes only when some were given. */
  readonly scale: boolean
  readonly update: boolean
}

export interface AppManifest {
  readonly name: string
  /** The application hash exactly as sent (for the apply_manifest event and the diff). */
  readonly original: Record<string, unknown>
  readonly env?: Record<string, string>
  /** Set when `buildpack` or `buildpacks` was given (`[]` means auto-detect). */
  readonly buildpacks?: string[]
  readonly stack?: string
  readonly metadata?: MetadataPatch
  readonly processes: readonly ManifestProcess[]
  /** Keys cf-ledger accepts but cannot act on (routes: no web processes run); reported as job warnings. */
  readonly ignored: readonly string[]
}

export interface ParsedManifest {
  readonly applications: readonly AppManifest[]
}

const ROUTE_KEYS = ['routes', 'no_route', 'random_route', 'default_route'] as const

/** `disk-quota`, `diskQuota` and `disk_quota` are the same key (ActiveSupport's `underscore`). */
export function underscore(key: string): string {
  return key
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase()
}

function underscoreKeys(h: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [underscore(k), v]))
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const UNITS: Record<string, number> = { B: 1 / (1024 * 1024), K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }

/** CC's ByteConverter#convert_to_mb: a number with a unit (B, K/KB, M/MB, G/GB, T/TB); a bare number is an error. */
export function toMegabytes(value: unknown, attribute: string): { mb?: number; error?: string } {
  const s = String(value).trim()
  if (!/^-?\d/.test(s)) return { error: `${attribute} is not a number` }
  const m = /^(-?\d+(?:\.\d+)?)\s*([KMGTB])(?:I?B)?$/i.exec(s)
  if (!m) return { error: `${attribute} must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB` }
  return { mb: Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) }
}

/** `log-rate-limit-per-second`: bytes per second, `-1` unlimited, `0` none. */
function toBytesPerSecond(value: unknown, attribute: string): { bytes?: number; error?: string } {
  const s = String(value).trim()
  if (s === '-1' || s === '0') return { bytes: Number(s) }
  const r = toMegabytes(s, attribute)
  if (r.error) return r
  const m = /^(-?\d+(?:\.\d+)?)\s*([KMGTB])/i.exec(s)!
  const factor = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as 'B']
  return { bytes: Math.floor(Number(m[1]) * factor) }
}

const HEALTH_CHECK_TYPES = ['port', 'process', 'http']

function positiveInt(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1
}

/** Reads one process's attributes (an app's top level for `web`, or a `processes:` entry). */
function readProcess(type: string, p: Record<string, unknown>, errors: string[], fromEntry: boolean): ManifestProcess {
  const err = (msg: string) => errors.push(`Process "${type}": ${msg}`)
  const scaleRequest: Record<string, number> = {}
  const updateRequest: Record<string, unknown> = { type }
  let memoryInMb: number | undefined
  let diskInMb: number | undefined
  let logRateLimit: number | undefined
  let instances: number | undefined
  if (p.memory !== undefined && p.memory !== null) {
    const r = toMegabytes(p.memory, 'Memory')
    if (r.error) err(r.error)
    else if (r.mb! <= 0) err('Memory must be greater than 0MB')
    else if (exceedsMax(r.mb!, MAX_DB_INT)) err(tooLarge('Memory in mb', MAX_DB_INT))
    else scaleRequest.memory_in_mb = memoryInMb = r.mb!
  }
  if (p.disk_quota !== undefined && p.disk_quota !== null) {
    const r = toMegabytes(p.disk_quota, 'Disk quota')
    if (r.error) err(r.error)
    else if (r.mb! <= 0) err('Disk quota must be greater than 0MB')
    else if (exceedsMax(r.mb!, MAX_DB_INT)) err(tooLarge('Disk in mb', MAX_DB_INT))
    else scaleRequest.disk_in_mb = diskInMb = r.mb!
  }
  if (p.log_rate_limit_per_second !== undefined && p.log_rate_limit_per_second !== null) {
    const r = toBytesPerSecond(p.log_rate_limit_per_second, 'Log rate limit per second')
    if (r.error) err(r.error)
    else if (r.bytes! < -1) err('Log rate limit must be greater than or equal to -1')
    else if (exceedsMax(r.bytes!, MAX_DB_BIGINT)) err(tooLarge('Log rate limit in bytes per second', MAX_DB_BIGINT))
    else scaleRequest.log_rate_limit_in_bytes_per_second = logRateLimit = r.bytes!
  }
  if (p.instances !== undefined && p.instances !== null) {
    if (typeof p.instances !== 'number') err('Instances is not a number')
    else if (!Number.isInteger(p.instances)) err('Instances must be an integer')
    else if (p.instances < 0) err('Instances must be greater than or equal to 0')
    else if (exceedsMax(p.instances, MAX_DB_INT)) err(tooLarge('Instances', MAX_DB_INT))
    else scaleRequest.instances = instances = p.instances
  }
  let command: string | null | undefined
  if ('command' in p) {
    if (p.command !== null && typeof p.command !== 'string') err('Command must be a string')
    else {
      command = p.command === null || p.command === '' ? null : (p.command as string)
      updateRequest.command = command ?? 'null'
    }
  }
  const hc: { -readonly [K in keyof HealthCheckUpdate]: HealthCheckUpdate[K] } = {}
  if ('health_check_type' in p) {
    const t = p.health_check_type === 'none' ? 'process' : p.health_check_type
    if (typeof t !== 'string' || !HEALTH_CHECK_TYPES.includes(t)) err('Health check type must be "port", "process", or "http"')
    else {
      hc.type = t
      updateRequest.health_check_type = t
      if (t === 'http' && !('health_check_http_endpoint' in p)) hc.endpoint = '/'
    }
  }
  if ('health_check_http_endpoint' in p) {
    if (typeof p.health_check_http_endpoint !== 'string' || !p.health_check_http_endpoint.startsWith('/')) {
      err('Health check http endpoint must be a valid URI path')
    } else updateRequest.health_check_http_endpoint = hc.endpoint = p.health_check_http_endpoint
  }
  for (const [key, field, label] of [
    ['timeout', 'timeout', 'Timeout'],
    ['health_check_timeout', 'timeout', 'Health check timeout'],
    ['health_check_invocation_timeout', 'invocationTimeout', 'Health check invocation timeout'],
    ['health_check_interval', 'interval', 'Health check interval'],
  ] as const) {
    if (!(key in p)) continue
    if (!positiveInt(p[key])) err(`${label} must be greater than or equal to 1`)
    else {
      hc[field] = p[key] as number
      updateRequest[key] = p[key]
    }
  }
  const scaleGiven = Object.keys(scaleRequest).length > 0
  const updateGiven = Object.keys(updateRequest).some((k) => k !== 'type')
  return {
    type,
    command,
    instances,
    memoryInMb,
    diskInMb,
    logRateLimit,
    healthCheck: Object.keys(hc).length ? hc : undefined,
    scaleRequest,
    updateRequest,
    scale: fromEntry || scaleGiven,
    update: (fromEntry && type !== 'web') || updateGiven,
  }
}

function readEnv(env: unknown, errors: string[]): Record<string, string> | undefined {
  if (!isMap(env)) {
    errors.push('Env must be an object of keys and values')
    return undefined
  }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) {
    if (k === '') errors.push('Env key must not be empty')
    else if (k.startsWith('VCAP_')) errors.push('Env cannot start with VCAP_')
    else if (k.startsWith('VMC_')) errors.push('Env cannot start with VMC_')
    else if (k === 'PORT') errors.push('Env cannot set PORT')
    // CC stores every value as its string form (`to_s`).
    else out[k] = v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return out
}

function readApplication(original: Record<string, unknown>, index: number): { app?: AppManifest; errors: string[] } {
  const a = underscoreKeys(original)
  const errors: string[] = []
  if (typeof a.name !== 'string' || a.name.trim() === '') errors.push('Name must not be empty')
  if (a.buildpack !== undefined && a.buildpacks !== undefined) errors.push('Buildpack and Buildpacks fields cannot be used together.')
  if (a.docker !== undefined) errors.push('Feature Disabled: diego_docker')
  if (a.lifecycle !== undefined && a.lifecycle !== 'buildpack') {
    errors.push(a.lifecycle === 'cnb' ? 'Feature Disabled: diego_cnb' : `Lifecycle must be 'buildpack'`)
  }
  if (a.services !== undefined && !(Array.isArray(a.services) && a.services.length === 0)) {
    errors.push('Services are not supported: cf-ledger has no service instances to bind')
  }
  if (a.sidecars !== undefined && !(Array.isArray(a.sidecars) && a.sidecars.length === 0)) {
    errors.push('Sidecars are not supported: cf-ledger runs no long-running processes')
  }
  let buildpacks: string[] | undefined
  if (a.buildpacks !== undefined) {
    if (!Array.isArray(a.buildpacks) || !a.buildpacks.every((b) => typeof b === 'string')) errors.push('Buildpacks must be an array of strings')
    else buildpacks = a.buildpacks as string[]
  } else if (a.buildpack !== undefined) {
    if (a.buildpack !== null && typeof a.buildpack !== 'string') errors.push('Buildpack must be a string')
    else buildpacks = a.buildpack === null || a.buildpack === 'default' || a.buildpack === 'null' ? [] : [a.buildpack]
  }
  if (a.stack !== undefined && typeof a.stack !== 'string') errors.push('Stack must be a string')
  let metadata: MetadataPatch | undefined
  if (a.metadata !== undefined) {
    const r = metadataSchema.safeParse(a.metadata)
    if (r.success) metadata = r.data
    else errors.push(...r.error.issues.map((i) => i.message))
  }
  const env = a.env !== undefined && a.env !== null ? readEnv(a.env, errors) : undefined
  for (const k of ['no_route', 'random_route', 'default_route'] as const) {
    if (a[k] !== undefined && typeof a[k] !== 'boolean') errors.push(`${k.replace(/_/g, '-')} must be a boolean`)
  }

  const processes: ManifestProcess[] = []
  const web = readProcess('web', a, errors, false)
  if (web.scale || web.update) processes.push(web)
  if (a.processes !== undefined) {
    if (!Array.isArray(a.processes) || !a.processes.every(isMap)) errors.push('Processes must be an array of process configurations')
    else {
      const entries = (a.processes as Record<string, unknown>[]).map(underscoreKeys)
      if (entries.some((p) => typeof p.type !== 'string' || p.type === '')) errors.push('All Processes must specify a type')
      const seen = new Set<string>()
      for (const p of entries) {
        if (typeof p.type !== 'string' || p.type === '') continue
        if (seen.has(p.type)) {
          errors.push(`Process "${p.type}" may only be present once`)
          continue
        }
        seen.add(p.type)
        const entry = readProcess(p.type, p, errors, true)
        // A `web` entry replaces the app-level web attributes, as in CC.
        if (p.type === 'web') processes.splice(0, processes.length, entry, ...processes.filter((x) => x.type !== 'web'))
        else processes.push(entry)
      }
    }
  }
  const ignored = ROUTE_KEYS.filter((k) => a[k] !== undefined && a[k] !== false && k !== 'no_route').map((k) => k.replace(/_/g, '-'))
  if (errors.length > 0) {
    const who = typeof a.name === 'string' && a.name.trim() !== '' ? `For application '${a.name}'` : `For application at index ${index}`
    return { errors: errors.map((e) => `${who}: ${e}`) }
  }
  return {
    errors: [],
    app: {
      name: a.name as string,
      original,
      env,
      buildpacks,
      stack: a.stack as string | undefined,
      metadata,
      processes,
      ignored,
    },
  }
}

/** Parses and validates a manifest body; throws the CF error CC gives for each kind of problem. */
export function parseManifest(text: string): ParsedManifest {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    throw apiError('BadRequest', 'Manifest size is too large. The maximum supported size is 1MB.')
  }
  const doc = YAML.parseDocument(text, { version: '1.1', uniqueKeys: false })
  let aliased = false
  YAML.visit(doc, {
    Alias() {
      aliased = true
      return YAML.visit.BREAK
    },
  })
  if (aliased) throw apiError('BadRequest', 'Manifest does not support Anchors and Aliases')
  if (doc.errors.length > 0) throw apiError('MessageParseError', 'invalid request body')
  const root: unknown = doc.toJS()
  if (!isMap(root)) throw apiError('MessageParseError', 'invalid request body')
  // YAML escapes ("\0", "\ud800") can produce what the text rule refuses in JSON bodies.
  checkBodyText(root)
  if (root.version !== undefined && root.version !== 1) {
    throw unprocessable('Unsupported manifest schema version. Currently supported versions: [1].')
  }
  const apps = root.applications
  if (!Array.isArray(apps) || apps.length === 0) throw unprocessable("Cannot parse manifest with no 'applications' field.")
  const applications: AppManifest[] = []
  const errors: string[] = []
  apps.forEach((raw, i) => {
    if (!isMap(raw)) {
      errors.push(`For application at index ${i}: Application must be a map of attributes`)
      return
    }
    const r = readApplication(raw, i)
    errors.push(...r.errors)
    if (r.app) applications.push(r.app)
  })
  if (errors.length > 0) throw manifestErrors(errors)
  return { applications }
}

/** CC answers with one error object per message (a CompoundError); cf-ledger joins them in one. */
function manifestErrors(errors: readonly string[]): ApiError {
  return unprocessable(errors.join(', '))
}

/** The YAML CC records in `audit.app.apply_manifest`: this app only, with `env` and `cnb-credentials` hidden. */
export function auditManifestYaml(app: AppManifest): string {
  return `---\n${YAML.stringify({ applications: [redactManifestApplication(app.original)] }, { indentSeq: false })}`
}

// `POST /v3/spaces/:guid/manifest_diff` (CC's SpaceDiffManifest): JSON-patch-like operations that
// turn each app's current configuration, shown as a manifest, into what the manifest asks for.
// Only keys present in the manifest are compared (a manifest is a partial description), byte
// sizes are compared by value ("1G" equals "1024M"), and apps that do not exist yet are all "add".
import { toMegabytes, underscore, type ParsedManifest } from '../messages/manifest.ts'
import type { AppRow, ProcessRow, SpaceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export interface DiffOp {
  readonly op: 'add' | 'replace'
  readonly path: string
  readonly value: unknown
  readonly was?: unknown
}

/** Keys CC compares (AppManifestMessage's allowed keys, underscored). */
const RECOGNIZED = new Set([
  'buildpack', 'buildpacks', 'command', 'disk_quota', 'log_rate_limit_per_second', 'docker', 'env',
  'health_check_http_endpoint', 'health_check_invocation_timeout', 'health_check_interval', 'health_check_timeout',
  'health_check_type', 'readiness_health_check_http_endpoint', 'readiness_health_check_type',
  'readiness_health_check_invocation_timeout', 'readiness_health_check_interval', 'instances', 'metadata', 'memory',
  'lifecycle', 'name', 'no_route', 'processes', 'random_route', 'default_route', 'routes', 'services', 'sidecars',
  'stack', 'timeout', 'cnb_credentials',
])
const BYTE_KEYS = new Set(['memory', 'disk_quota', 'log_rate_limit_per_second'])

/** A process as CC's AppManifestPresenter shows it (underscored keys). */
function processManifest(p: ProcessRow): Record<string, unknown> {
  const data = p.health_check.data as Record<string, unknown>
  return {
    type: p.type,
    instances: p.instances,
    memory: `${p.memory_in_mb}M`,
    disk_quota: `${p.disk_in_mb}M`,
    log_rate_limit_per_second: p.log_rate_limit_in_bytes_per_second === -1 ? '-1' : `${p.log_rate_limit_in_bytes_per_second}B`,
    ...(p.command !== null ? { command: p.command } : {}),
    health_check_type: p.health_check.type,
    ...(data.endpoint !== undefined ? { health_check_http_endpoint: data.endpoint } : {}),
    ...(data.timeout != null ? { timeout: data.timeout } : {}),
    ...(data.invocation_timeout != null ? { health_check_invocation_timeout: data.invocation_timeout } : {}),
    ...(data.interval != null ? { health_check_interval: data.interval } : {}),
  }
}

function appManifest(app: AppRow, processes: readonly ProcessRow[]): Record<string, unknown> {
  const hasMetadata = Object.keys(app.labels).length > 0 || Object.keys(app.annotations).length > 0
  const procs = processes.map(processManifest)
  const web = procs.find((p) => p.type === 'web')
  return {
    name: app.name,
    ...(app.lifecycle.data.buildpacks.length ? { buildpacks: app.lifecycle.data.buildpacks } : {}),
    stack: app.lifecycle.data.stack,
    ...(Object.keys(app.environment_variables).length ? { env: app.environment_variables } : {}),
    ...(hasMetadata ? { metadata: { labels: app.labels, annotations: app.annotations } } : {}),
    no_route: true,
    processes: procs,
    ...(web ? Object.fromEntries(Object.entries(web).filter(([k]) => k !== 'type')) : {}),
  }
}

function same(key: string, a: unknown, b: unknown): boolean {
  if (BYTE_KEYS.has(key)) {
    const norm = (v: unknown) => (String(v).trim() === '-1' ? -1 : (toMegabytes(v, key).mb ?? String(v)))
    return norm(a) === norm(b)
  }
  return JSON.stringify(a) === JSON.stringify(b)
}

function diffHash(path: string, wanted: Record<string, unknown>, current: Record<string, unknown> | undefined, out: DiffOp[]) {
  for (const [key, value] of Object.entries(wanted)) {
    const k = underscore(key)
    if (!RECOGNIZED.has(k) || k === 'processes') continue
    const was = current?.[k]
    if (was === undefined) out.push({ op: 'add', path: `${path}/${key}`, value })
    else if (!same(k, value, was)) out.push({ op: 'replace', path: `${path}/${key}`, was, value })
  }
}

export async function diffManifest(db: Db, space: SpaceRow, manifest: ParsedManifest): Promise<DiffOp[]> {
  const out: DiffOp[] = []
  for (const [i, m] of manifest.applications.entries()) {
    const path = `/applications/${i}`
    const app = await db.selectFrom('apps').selectAll().where('space_guid', '=', space.guid).where('name', '=', m.name).executeTakeFirst()
    const current = app
      ? appManifest(app, await db.selectFrom('processes').selectAll().where('app_guid', '=', app.guid).orderBy('type').execute())
      : undefined
    diffHash(path, m.original, current, out)
    const procKey = Object.keys(m.original).find((k) => underscore(k) === 'processes')
    const wantedProcs = procKey ? m.original[procKey] : undefined
    if (!procKey || !Array.isArray(wantedProcs)) continue
    const currentProcs = (current?.processes as Record<string, unknown>[] | undefined) ?? []
    if (!current) {
      out.push({ op: 'add', path: `${path}/${procKey}`, value: wantedProcs })
      continue
    }
    wantedProcs.forEach((p: Record<string, unknown>, j: number) => {
      const existing = currentProcs.find((c) => c.type === p.type)
      if (!existing) out.push({ op: 'add', path: `${path}/${procKey}/${j}`, value: p })
      else diffHash(`${path}/${procKey}/${j}`, p, existing, out)
    })
  }
  return out
}

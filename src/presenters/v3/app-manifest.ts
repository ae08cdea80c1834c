// `GET /v3/apps/:guid/manifest` (CC's AppManifestPresenter): the app as a manifest cf can push.
import { stringify } from 'yaml'
import type { AppRow, ProcessRow } from '../../store/schema.ts'

const mb = (n: number) => (n % 1024 === 0 ? `${n / 1024}G` : `${n}M`)

/** CC's add_units_log_rate_limit: -1 (unlimited) stays a number; bytes get the largest exact unit. */
function logRate(bytes: number): string | number {
  if (bytes < 0) return -1
  for (const [unit, size] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`
  return `${bytes}B`
}

export function presentAppManifest(app: AppRow, processes: readonly ProcessRow[], serviceNames: readonly string[]): string {
  const entry: Record<string, unknown> = { name: app.name }
  if (Object.keys(app.environment_variables).length) entry.env = app.environment_variables
  if (app.lifecycle.data.buildpacks.length) entry.buildpacks = app.lifecycle.data.buildpacks
  entry.stack = app.lifecycle.data.stack
  if (serviceNames.length) entry.services = [...serviceNames]
  const metadata: Record<string, unknown> = {}
  if (Object.keys(app.labels).length) metadata.labels = app.labels
  if (Object.keys(app.annotations).length) metadata.annotations = app.annotations
  if (Object.keys(metadata).length) entry.metadata = metadata
  if (processes.length) {
    entry.processes = [...processes]
      .sort((a, b) => a.type.localeCompare(b.type))
      .map((p) => {
        const out: Record<string, unknown> = {
          type: p.type,
          instances: p.instances,
          memory: mb(p.memory_in_mb),
          disk_quota: mb(p.disk_in_mb),
          'log-rate-limit-per-second': logRate(p.log_rate_limit_in_bytes_per_second),
        }
        if (p.command !== null) out.command = p.command
        out['health-check-type'] = p.health_check.type
        if (typeof p.health_check.data.endpoint === 'string') out['health-check-http-endpoint'] = p.health_check.data.endpoint
        if (typeof p.health_check.data.timeout === 'number') out.timeout = p.health_check.data.timeout
        return out
      })
  }
  return `---\n${stringify({ applications: [entry] })}`
}

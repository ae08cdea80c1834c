import { PRIVATE_DATA_HIDDEN } from '../../audit/redaction.ts'
import type { AppRow, ProcessRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

export function presentApp(a: AppRow, baseUrl: string) {
  const self = `${baseUrl}/v3/apps/${a.guid}`
  return {
    guid: a.guid,
    created_at: timestamp(a.created_at),
    updated_at: timestamp(a.updated_at),
    name: a.name,
    state: a.state,
    lifecycle: a.lifecycle,
    relationships: { space: { data: { guid: a.space_guid } } },
    metadata: metadataOf(a),
    links: {
      self: { href: self },
      environment_variables: { href: `${self}/environment_variables` },
      space: { href: `${baseUrl}/v3/spaces/${a.space_guid}` },
      processes: { href: `${self}/processes` },
      packages: { href: `${self}/packages` },
      current_droplet: { href: `${self}/droplets/current` },
      droplets: { href: `${self}/droplets` },
      tasks: { href: `${self}/tasks` },
      start: { href: `${self}/actions/start`, method: 'POST' },
      stop: { href: `${self}/actions/stop`, method: 'POST' },
      revisions: { href: `${self}/revisions` },
      deployed_revisions: { href: `${self}/revisions/deployed` },
      features: { href: `${self}/features` },
    },
  }
}

/**
 * `command` is the specified or detected one (CC's specified_or_detected_command; pass the app's
 * detected process types), hidden from callers who may not read secrets where CC hides it.
 */
export function presentProcess(p: ProcessRow, spaceGuid: string, baseUrl: string, detected?: Record<string, string>, showSecrets = true) {
  const self = `${baseUrl}/v3/processes/${p.guid}`
  return {
    guid: p.guid,
    type: p.type,
    command: showSecrets ? (p.command ?? detected?.[p.type] ?? null) : PRIVATE_DATA_HIDDEN,
    user: 'vcap',
    instances: p.instances,
    memory_in_mb: p.memory_in_mb,
    disk_in_mb: p.disk_in_mb,
    log_rate_limit_in_bytes_per_second: p.log_rate_limit_in_bytes_per_second,
    health_check: { type: p.health_check.type, data: { timeout: null, invocation_timeout: null, interval: null, ...p.health_check.data } },
    readiness_health_check: { type: 'process', data: { invocation_timeout: null, interval: null } },
    relationships: { app: { data: { guid: p.app_guid } }, revision: null },
    metadata: metadataOf(p),
    created_at: timestamp(p.created_at),
    updated_at: timestamp(p.updated_at),
    version: p.guid,
    links: {
      self: { href: self },
      scale: { href: `${self}/actions/scale`, method: 'POST' },
      app: { href: `${baseUrl}/v3/apps/${p.app_guid}` },
      space: { href: `${baseUrl}/v3/spaces/${spaceGuid}` },
      stats: { href: `${self}/stats` },
    },
  }
}

/**
 * cf-ledger runs tasks, not long-running processes (docs/apps.md). A stopped app's instances
 * report DOWN, as CC's do. A started app has no instances at all: none was ever started, and an
 * empty list is what tells cf that there is nothing to wait for (cf push/start/restart/scale).
 */
export function presentProcessStats(p: ProcessRow, appState: string) {
  if (appState === 'STARTED') return []
  return Array.from({ length: p.instances }, (_, index) => ({
    type: p.type,
    index,
    state: 'DOWN',
    host: '',
    instance_internal_ip: '',
    uptime: 0,
    mem_quota: p.memory_in_mb * 1024 * 1024,
    disk_quota: p.disk_in_mb * 1024 * 1024,
    log_rate_limit: p.log_rate_limit_in_bytes_per_second,
    fds_quota: 16384,
    isolation_segment: null,
    details: 'cf-ledger runs tasks only; long-running processes are not started',
    usage: {},
    routable: false,
  }))
}

/**
 * The warning (X-Cf-Warnings, which cf prints) on start, restart and scale of a started app:
 * nothing will run, and what to do instead. Encoded so its commas are not warning separators.
 */
export function notRunWarning(appName: string): Record<string, string> {
  const text =
    `cf-ledger does not run long-running processes: no instance of app '${appName}' will start. ` +
    `Run its code as a task with 'cf run-task ${appName} --command CMD' (or push with 'cf push ${appName} --task').`
  return { 'x-cf-warnings': encodeURIComponent(text) }
}

import { sql } from 'kysely'
import { unprocessable } from '../errors/api-error.ts'
import type { QuotaLimitsMessage } from '../messages/quota.ts'
import type { Db } from '../store/store.ts'

/** bigint columns take a decimal string; values past 2^63-1 (JSON doubles) are clamped to it. */
function bigint(v: number): string {
  return v >= 9223372036854775807 ? '9223372036854775807' : BigInt(Math.trunc(v)).toString()
}

export interface LimitColumns {
  total_memory_in_mb?: number | null
  per_process_memory_in_mb?: number | null
  total_instances?: number | null
  app_task_limit?: number | null
  log_rate_limit_in_bytes_per_second?: string | null
  paid_services_allowed?: boolean
  total_service_instances?: number | null
  total_service_keys?: number | null
  total_routes?: number | null
  total_reserved_ports?: number | null
  total_domains?: number | null
}

/**
 * Columns for a create (every limit: the request's value or unlimited, paid services allowed
 * by default, as CC's *QuotasCreate) or an update (only the requested keys; null resets to
 * unlimited, as CC's *QuotasUpdate.default_if_nil).
 */
export function limitColumns(msg: QuotaLimitsMessage, mode: 'create' | 'update', withDomains: boolean): LimitColumns {
  const out: LimitColumns = {}
  const set = <K extends keyof LimitColumns>(col: K, group: Record<string, unknown> | undefined, key: string, conv: (v: unknown) => LimitColumns[K]) => {
    if (mode === 'create' || (group && Object.prototype.hasOwnProperty.call(group, key))) out[col] = conv(group?.[key])
  }
  const int = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  const { apps, services, routes, domains } = msg as Record<string, Record<string, unknown> | undefined>
  set('total_memory_in_mb', apps, 'total_memory_in_mb', int)
  set('per_process_memory_in_mb', apps, 'per_process_memory_in_mb', int)
  set('total_instances', apps, 'total_instances', int)
  set('app_task_limit', apps, 'per_app_tasks', int)
  set('log_rate_limit_in_bytes_per_second', apps, 'log_rate_limit_in_bytes_per_second', (v) => (v === null || v === undefined ? null : bigint(Number(v))))
  set('paid_services_allowed', services, 'paid_services_allowed', (v) => (typeof v === 'boolean' ? v : true))
  set('total_service_instances', services, 'total_service_instances', int)
  set('total_service_keys', services, 'total_service_keys', int)
  set('total_routes', routes, 'total_routes', int)
  set('total_reserved_ports', routes, 'total_reserved_ports', int)
  if (withDomains) set('total_domains', domains, 'total_domains', int)
  return out
}

const RESERVED_PORTS_TEXT = 'Total reserved ports must be -1, 0, or a positive integer, and must be less than or equal to total routes.'

/** CC's model validation (QuotaDefinition#validate_total_reserved_route_ports) on the resulting row. */
export function checkReservedPorts(row: { total_routes: number | null; total_reserved_ports: number | null }): void {
  if (row.total_reserved_ports !== null && row.total_routes !== null && row.total_reserved_ports > row.total_routes) {
    throw unprocessable(RESERVED_PORTS_TEXT)
  }
}

/** Names of the orgs or spaces (given by guid) that hold a process with an unlimited log rate. */
export async function unlimitedLogRateHolders(tx: Db, scope: 'organization' | 'space', guids: readonly string[]): Promise<string[]> {
  if (!guids.length) return []
  const rows =
    scope === 'organization'
      ? await sql<{ name: string }>`
          select distinct o.name from organizations o
            join spaces s on s.organization_guid = o.guid
            join apps a on a.space_guid = s.guid
            join processes p on p.app_guid = a.guid
          where o.guid in (${sql.join([...guids])}) and p.log_rate_limit_in_bytes_per_second = -1
          order by o.name`.execute(tx)
      : await sql<{ name: string }>`
          select distinct s.name from spaces s
            join apps a on a.space_guid = s.guid
            join processes p on p.app_guid = a.guid
          where s.guid in (${sql.join([...guids])}) and p.log_rate_limit_in_bytes_per_second = -1
          order by s.name`.execute(tx)
  return rows.rows.map((r) => r.name)
}

/**
 * CC's *QuotasUpdate.unlimited_processes_exist_error!: "Current usage exceeds new quota values.
 * This quota is applied to org 'a' which contains apps running with an unlimited log rate limit."
 */
export function unlimitedLogRateOnUpdate(kind: 'org' | 'space', names: readonly string[]): Error {
  const named = names.slice(0, 2).join("', '")
  const which =
    names.length === 1
      ? `${kind} '${named}' which contains`
      : names.length > 2
        ? `${kind}s '${named}' and ${names.length - 2} other ${kind}s which contain`
        : `${kind}s '${named}' which contain`
  return unprocessable(`Current usage exceeds new quota values. This quota is applied to ${which} apps running with an unlimited log rate limit.`)
}

/** A quota's log rate limit is finite (NULL is unlimited). */
export const limitsLogRate = (v: unknown) => v !== null && v !== undefined

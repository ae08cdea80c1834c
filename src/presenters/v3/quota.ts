import type { OrganizationQuotaRow, SpaceQuotaRow } from '../../store/schema.ts'
import { timestamp } from '../fields.ts'

// CC's QuotaPresenterBuilder: unlimited (stored as NULL here, -1 in CC) is shown as null.
const n = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v))

function limits(q: OrganizationQuotaRow | SpaceQuotaRow) {
  return {
    apps: {
      total_memory_in_mb: n(q.total_memory_in_mb),
      per_process_memory_in_mb: n(q.per_process_memory_in_mb),
      total_instances: n(q.total_instances),
      per_app_tasks: n(q.app_task_limit),
      log_rate_limit_in_bytes_per_second: n(q.log_rate_limit_in_bytes_per_second),
    },
    services: {
      paid_services_allowed: q.paid_services_allowed,
      total_service_instances: n(q.total_service_instances),
      total_service_keys: n(q.total_service_keys),
    },
    routes: {
      total_routes: n(q.total_routes),
      total_reserved_ports: n(q.total_reserved_ports),
    },
  }
}

/** `visibleOrgGuids`: the orgs using the quota that the caller can read (CC filters them). */
export function presentOrganizationQuota(q: OrganizationQuotaRow, visibleOrgGuids: readonly string[], baseUrl: string) {
  return {
    guid: q.guid,
    created_at: timestamp(q.created_at),
    updated_at: timestamp(q.updated_at),
    name: q.name,
    ...limits(q),
    domains: { total_domains: n(q.total_domains) },
    relationships: { organizations: { data: visibleOrgGuids.map((guid) => ({ guid })) } },
    links: { self: { href: `${baseUrl}/v3/organization_quotas/${q.guid}` } },
  }
}

/** `visibleSpaceGuids`: the spaces using the quota that the caller can read. */
export function presentSpaceQuota(q: SpaceQuotaRow, visibleSpaceGuids: readonly string[], baseUrl: string) {
  return {
    guid: q.guid,
    created_at: timestamp(q.created_at),
    updated_at: timestamp(q.updated_at),
    name: q.name,
    ...limits(q),
    relationships: {
      organization: { data: { guid: q.organization_guid } },
      spaces: { data: visibleSpaceGuids.map((guid) => ({ guid })) },
    },
    links: {
      self: { href: `${baseUrl}/v3/space_quotas/${q.guid}` },
      organization: { href: `${baseUrl}/v3/organizations/${q.organization_guid}` },
    },
  }
}

/** CC's ToManyRelationshipPresenter (build_related: false), the answer to an apply. */
export function presentQuotaRelationship(path: string, guids: readonly string[], baseUrl: string) {
  return { data: guids.map((guid) => ({ guid })), links: { self: { href: `${baseUrl}/v3/${path}` } } }
}

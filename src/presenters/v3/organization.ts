import type { OrganizationRow, SpaceRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

export function presentOrganization(o: OrganizationRow, baseUrl: string) {
  const self = `${baseUrl}/v3/organizations/${o.guid}`
  return {
    guid: o.guid,
    created_at: timestamp(o.created_at),
    updated_at: timestamp(o.updated_at),
    name: o.name,
    suspended: o.suspended,
    relationships: { quota: { data: o.quota_guid ? { guid: o.quota_guid } : null } },
    metadata: metadataOf(o),
    links: {
      self: { href: self },
      domains: { href: `${self}/domains` },
      default_domain: { href: `${self}/domains/default` },
      ...(o.quota_guid ? { quota: { href: `${baseUrl}/v3/organization_quotas/${o.quota_guid}` } } : {}),
    },
  }
}

export function presentSpace(s: SpaceRow, baseUrl: string) {
  const self = `${baseUrl}/v3/spaces/${s.guid}`
  return {
    guid: s.guid,
    created_at: timestamp(s.created_at),
    updated_at: timestamp(s.updated_at),
    name: s.name,
    relationships: {
      organization: { data: { guid: s.organization_guid } },
      quota: { data: s.quota_guid ? { guid: s.quota_guid } : null },
    },
    metadata: metadataOf(s),
    links: {
      self: { href: self },
      organization: { href: `${baseUrl}/v3/organizations/${s.organization_guid}` },
      features: { href: `${self}/features` },
      apply_manifest: { href: `${self}/actions/apply_manifest`, method: 'POST' },
      ...(s.quota_guid ? { quota: { href: `${baseUrl}/v3/space_quotas/${s.quota_guid}` } } : {}),
    },
  }
}

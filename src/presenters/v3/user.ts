import type { UserView } from '../../queries/users.ts'
import type { JobRow, RoleRow } from '../../store/schema.ts'
import { timestamp } from '../fields.ts'

export function presentUser(u: UserView, baseUrl: string) {
  return {
    guid: u.guid,
    created_at: timestamp(u.created_at),
    updated_at: timestamp(u.updated_at),
    username: u.username,
    presentation_name: u.username ?? u.guid,
    origin: u.origin,
    metadata: { labels: u.labels ?? {}, annotations: u.annotations ?? {} },
    links: { self: { href: `${baseUrl}/v3/users/${encodeURIComponent(u.guid)}` } },
  }
}

export function presentRole(r: RoleRow, baseUrl: string) {
  const user = { data: { guid: r.user_guid } }
  const links = {
    self: { href: `${baseUrl}/v3/roles/${r.guid}` },
    user: { href: `${baseUrl}/v3/users/${encodeURIComponent(r.user_guid)}` },
  }
  const base = { guid: r.guid, created_at: timestamp(r.created_at), updated_at: timestamp(r.updated_at), type: r.type }
  if (r.space_guid) {
    return {
      ...base,
      relationships: { user, space: { data: { guid: r.space_guid } }, organization: { data: null } },
      links: { ...links, space: { href: `${baseUrl}/v3/spaces/${r.space_guid}` } },
    }
  }
  return {
    ...base,
    relationships: { user, organization: { data: { guid: r.organization_guid } }, space: { data: null } },
    links: { ...links, organization: { href: `${baseUrl}/v3/organizations/${r.organization_guid}` } },
  }
}

export function presentJob(j: JobRow, baseUrl: string) {
  return {
    guid: j.guid,
    created_at: timestamp(j.created_at),
    updated_at: timestamp(j.updated_at),
    operation: j.operation,
    state: j.state,
    links: { self: { href: `${baseUrl}/v3/jobs/${j.guid}` } },
    errors: j.errors,
    warnings: j.warnings,
  }
}

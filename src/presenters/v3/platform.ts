import { BUILDPACK, SHARED_DOMAIN, STACK } from '../../platform/fixed.ts'
import type { EnvironmentVariableGroupRow } from '../../store/schema.ts'
import { timestamp } from '../fields.ts'

const noMetadata = () => ({ labels: {}, annotations: {} })

export function presentStack(since: Date, baseUrl: string) {
  return {
    guid: STACK.guid,
    created_at: timestamp(since),
    updated_at: timestamp(since),
    name: STACK.name,
    description: STACK.description,
    state: 'ACTIVE',
    state_reason: null,
    run_rootfs_image: STACK.name,
    build_rootfs_image: STACK.name,
    default: true,
    metadata: noMetadata(),
    links: { self: { href: `${baseUrl}/v3/stacks/${STACK.guid}` } },
  }
}

export function presentBuildpack(since: Date, baseUrl: string) {
  return {
    guid: BUILDPACK.guid,
    created_at: timestamp(since),
    updated_at: timestamp(since),
    name: BUILDPACK.name,
    stack: BUILDPACK.stack,
    state: 'READY',
    lifecycle: 'buildpack',
    filename: `${BUILDPACK.name}-${BUILDPACK.stack}.zip`,
    position: 1,
    enabled: true,
    locked: true,
    metadata: noMetadata(),
    links: {
      self: { href: `${baseUrl}/v3/buildpacks/${BUILDPACK.guid}` },
      upload: { href: `${baseUrl}/v3/buildpacks/${BUILDPACK.guid}/upload`, method: 'POST' },
    },
  }
}

export function presentDomain(since: Date, baseUrl: string) {
  return {
    guid: SHARED_DOMAIN.guid,
    created_at: timestamp(since),
    updated_at: timestamp(since),
    name: SHARED_DOMAIN.name,
    internal: false,
    router_group: null,
    supported_protocols: ['http'],
    relationships: { organization: { data: null }, shared_organizations: { data: [] } },
    metadata: noMetadata(),
    links: {
      self: { href: `${baseUrl}/v3/domains/${SHARED_DOMAIN.guid}` },
      route_reservations: { href: `${baseUrl}/v3/domains/${SHARED_DOMAIN.guid}/route_reservations` },
    },
  }
}

export function presentEnvironmentVariableGroup(row: EnvironmentVariableGroupRow, baseUrl: string) {
  return {
    updated_at: timestamp(row.updated_at),
    name: row.name,
    var: row.var,
    links: { self: { href: `${baseUrl}/v3/environment_variable_groups/${row.name}` } },
  }
}

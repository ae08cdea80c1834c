import type { ServiceBindingRow, ServiceInstanceRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

/** CC's ServiceInstancePresenter for a user-provided instance. */
export function presentServiceInstance(si: ServiceInstanceRow, baseUrl: string) {
  const self = `${baseUrl}/v3/service_instances/${si.guid}`
  return {
    guid: si.guid,
    created_at: timestamp(si.created_at),
    updated_at: timestamp(si.updated_at),
    name: si.name,
    tags: si.tags ?? [],
    type: si.type,
    syslog_drain_url: si.syslog_drain_url,
    route_service_url: si.route_service_url,
    last_operation: {
      type: new Date(si.updated_at).getTime() > new Date(si.created_at).getTime() ? 'update' : 'create',
      state: 'succeeded',
      description: 'Operation succeeded',
      updated_at: timestamp(si.updated_at),
      created_at: timestamp(si.created_at),
    },
    relationships: { space: { data: { guid: si.space_guid } } },
    metadata: metadataOf(si),
    links: {
      self: { href: self },
      space: { href: `${baseUrl}/v3/spaces/${si.space_guid}` },
      service_credential_bindings: { href: `${baseUrl}/v3/service_credential_bindings?service_instance_guids=${si.guid}` },
      service_route_bindings: { href: `${baseUrl}/v3/service_route_bindings?service_instance_guids=${si.guid}` },
      credentials: { href: `${self}/credentials` },
    },
  }
}

/** CC's ServiceCredentialBindingPresenter for an app binding. */
export function presentServiceCredentialBinding(b: ServiceBindingRow, baseUrl: string) {
  const self = `${baseUrl}/v3/service_credential_bindings/${b.guid}`
  return {
    guid: b.guid,
    created_at: timestamp(b.created_at),
    updated_at: timestamp(b.updated_at),
    name: b.name,
    type: b.type,
    last_operation: {
      type: 'create',
      state: 'succeeded',
      description: null,
      created_at: timestamp(b.created_at),
      updated_at: timestamp(b.updated_at),
    },
    metadata: metadataOf(b),
    relationships: {
      app: { data: { guid: b.app_guid } },
      service_instance: { data: { guid: b.service_instance_guid } },
    },
    links: {
      self: { href: self },
      details: { href: `${self}/details` },
      service_instance: { href: `${baseUrl}/v3/service_instances/${b.service_instance_guid}` },
      app: { href: `${baseUrl}/v3/apps/${b.app_guid}` },
    },
  }
}

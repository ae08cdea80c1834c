// v2 renderings of the v3 domain model, for the read-only /v2 lists old scripts use. Fields in
// CC's v2 export order; `*_url` links relative, as v2 renders them.
import { PRIVATE_DATA_HIDDEN } from '../../audit/redaction.ts'
import { STACK } from '../../platform/fixed.ts'
import type { AppRow, OrganizationRow, ProcessRow, ServiceInstanceRow, SpaceRow } from '../../store/schema.ts'
import type { UserView } from '../../queries/users.ts'
import { timestamp } from '../fields.ts'

function meta(kind: string, row: { guid: string; created_at: Date; updated_at: Date | null }) {
  return { guid: row.guid, url: `/v2/${kind}/${row.guid}`, created_at: timestamp(row.created_at), updated_at: row.updated_at ? timestamp(row.updated_at) : null }
}

export function presentV2Organization(o: OrganizationRow) {
  const u = `/v2/organizations/${o.guid}`
  return {
    metadata: meta('organizations', o),
    entity: {
      name: o.name,
      billing_enabled: false,
      quota_definition_guid: o.quota_guid,
      status: o.suspended ? 'suspended' : 'active',
      default_isolation_segment_guid: null,
      quota_definition_url: o.quota_guid ? `/v2/quota_definitions/${o.quota_guid}` : null,
      spaces_url: `${u}/spaces`,
      domains_url: `${u}/domains`,
      private_domains_url: `${u}/private_domains`,
      users_url: `${u}/users`,
      managers_url: `${u}/managers`,
      billing_managers_url: `${u}/billing_managers`,
      auditors_url: `${u}/auditors`,
      app_events_url: `${u}/app_events`,
      space_quota_definitions_url: `${u}/space_quota_definitions`,
    },
  }
}

export function presentV2Space(s: SpaceRow) {
  const u = `/v2/spaces/${s.guid}`
  return {
    metadata: meta('spaces', s),
    entity: {
      name: s.name,
      organization_guid: s.organization_guid,
      space_quota_definition_guid: s.quota_guid,
      isolation_segment_guid: null,
      allow_ssh: s.allow_ssh,
      organization_url: `/v2/organizations/${s.organization_guid}`,
      developers_url: `${u}/developers`,
      managers_url: `${u}/managers`,
      auditors_url: `${u}/auditors`,
      apps_url: `${u}/apps`,
      routes_url: `${u}/routes`,
      domains_url: `${u}/domains`,
      service_instances_url: `${u}/service_instances`,
      app_events_url: `${u}/app_events`,
      events_url: `${u}/events`,
      security_groups_url: `${u}/security_groups`,
      staging_security_groups_url: `${u}/staging_security_groups`,
    },
  }
}

/** A v2 app is a v3 app and its web process. Environment values only for secret readers, as CC. */
export function presentV2App(a: AppRow, web: ProcessRow | undefined, detected: Record<string, string> | undefined, showSecrets: boolean) {
  const u = `/v2/apps/${a.guid}`
  return {
    metadata: meta('apps', a),
    entity: {
      name: a.name,
      production: false,
      space_guid: a.space_guid,
      stack_guid: STACK.guid,
      buildpack: a.lifecycle.data.buildpacks[0] ?? null,
      detected_buildpack: '',
      detected_buildpack_guid: null,
      environment_json: showSecrets ? a.environment_variables : { redacted_message: PRIVATE_DATA_HIDDEN },
      memory: web?.memory_in_mb ?? 1024,
      instances: web?.instances ?? 1,
      disk_quota: web?.disk_in_mb ?? 1024,
      log_rate_limit: web?.log_rate_limit_in_bytes_per_second ?? -1,
      state: a.state,
      version: a.guid,
      command: web?.command ?? null,
      console: false,
      debug: null,
      staging_task_id: null,
      package_state: a.current_droplet_guid ? 'STAGED' : 'PENDING',
      health_check_type: web?.health_check.type ?? 'port',
      health_check_timeout: null,
      health_check_http_endpoint: null,
      staging_failed_reason: null,
      staging_failed_description: null,
      diego: true,
      docker_image: null,
      docker_credentials: { username: null, password: null },
      package_updated_at: timestamp(a.updated_at),
      detected_start_command: detected?.web ?? '',
      enable_ssh: a.enable_ssh,
      ports: null,
      space_url: `/v2/spaces/${a.space_guid}`,
      stack_url: `/v2/stacks/${STACK.guid}`,
      routes_url: `${u}/routes`,
      events_url: `${u}/events`,
      service_bindings_url: `${u}/service_bindings`,
      route_mappings_url: `${u}/route_mappings`,
    },
  }
}

export function presentV2User(user: UserView) {
  const u = `/v2/users/${user.guid}`
  return {
    metadata: meta('users', user),
    entity: {
      admin: false,
      active: true,
      default_space_guid: null,
      ...(user.username !== null ? { username: user.username } : {}),
      spaces_url: `${u}/spaces`,
      organizations_url: `${u}/organizations`,
      managed_organizations_url: `${u}/managed_organizations`,
      billing_managed_organizations_url: `${u}/billing_managed_organizations`,
      audited_organizations_url: `${u}/audited_organizations`,
      managed_spaces_url: `${u}/managed_spaces`,
      audited_spaces_url: `${u}/audited_spaces`,
    },
  }
}

/** `/v2/user_provided_service_instances`: credentials for secret readers only. */
export function presentV2UserProvidedServiceInstance(si: ServiceInstanceRow, showSecrets: boolean) {
  const u = `/v2/user_provided_service_instances/${si.guid}`
  return {
    metadata: meta('user_provided_service_instances', si),
    entity: {
      name: si.name,
      credentials: showSecrets ? si.credentials : { redacted_message: PRIVATE_DATA_HIDDEN },
      space_guid: si.space_guid,
      type: 'user_provided_service_instance',
      syslog_drain_url: si.syslog_drain_url ?? '',
      route_service_url: si.route_service_url ?? '',
      tags: si.tags,
      space_url: `/v2/spaces/${si.space_guid}`,
      service_bindings_url: `${u}/service_bindings`,
      routes_url: `${u}/routes`,
    },
  }
}

export function presentV2Stack(since: Date) {
  return {
    metadata: meta('stacks', { guid: STACK.guid, created_at: since, updated_at: since }),
    entity: { name: STACK.name, description: STACK.description, build_rootfs_image: STACK.name, run_rootfs_image: STACK.name },
  }
}

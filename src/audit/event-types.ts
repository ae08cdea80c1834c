// Event type strings, exactly as Cloud Controller writes them (app/repositories/event_types.rb).
export const EVENT_TYPES = {
  organizationCreate: 'audit.organization.create',
  organizationUpdate: 'audit.organization.update',
  organizationDeleteRequest: 'audit.organization.delete-request',
  spaceCreate: 'audit.space.create',
  spaceUpdate: 'audit.space.update',
  spaceDeleteRequest: 'audit.space.delete-request',
} as const

/** `audit.user.space_developer_add`, `audit.user.organization_manager_remove`, … */
export function roleEventType(roleType: string, change: 'add' | 'remove'): string {
  return `audit.user.${roleType}_${change}`
}

export const APP_EVENT_TYPES = {
  create: 'audit.app.create',
  update: 'audit.app.update',
  deleteRequest: 'audit.app.delete-request',
  start: 'audit.app.start',
  stop: 'audit.app.stop',
  restart: 'audit.app.restart',
  environmentShow: 'audit.app.environment.show',
  environmentVariablesShow: 'audit.app.environment_variables.show',
  applyManifest: 'audit.app.apply_manifest',
  processCreate: 'audit.app.process.create',
  processUpdate: 'audit.app.process.update',
  processScale: 'audit.app.process.scale',
  packageCreate: 'audit.app.package.create',
  packageUpload: 'audit.app.package.upload',
  packageDownload: 'audit.app.package.download',
  buildCreate: 'audit.app.build.create',
  buildStaged: 'audit.app.build.staged',
  dropletCreate: 'audit.app.droplet.create',
  dropletMapped: 'audit.app.droplet.mapped',
  dropletDownload: 'audit.app.droplet.download',
  taskCreate: 'audit.app.task.create',
  taskCancel: 'audit.app.task.cancel',
  /** Ours (docs/task-trail.md): recorded when a task reaches SUCCEEDED or FAILED. */
  taskComplete: 'audit.app.task.complete',
} as const

/** Every task event type starts so (CC's and ours; collected foundations may add more). */
export const TASK_EVENT_PREFIX = 'audit.app.task.'

/** Quota events (CC 2026-01, #4740): organization_quota_event_repository.rb, space_quota_event_repository.rb. */
export const QUOTA_EVENT_TYPES = {
  organizationQuotaCreate: 'audit.organization_quota.create',
  organizationQuotaUpdate: 'audit.organization_quota.update',
  organizationQuotaDelete: 'audit.organization_quota.delete',
  organizationQuotaApply: 'audit.organization_quota.apply',
  spaceQuotaCreate: 'audit.space_quota.create',
  spaceQuotaUpdate: 'audit.space_quota.update',
  spaceQuotaDelete: 'audit.space_quota.delete',
  spaceQuotaApply: 'audit.space_quota.apply',
  spaceQuotaRemove: 'audit.space_quota.remove',
} as const

/** Service events written for user-provided instances and their app bindings (service_event_repository.rb). */
export const SERVICE_EVENT_TYPES = {
  userProvidedCreate: 'audit.user_provided_service_instance.create',
  userProvidedUpdate: 'audit.user_provided_service_instance.update',
  userProvidedDelete: 'audit.user_provided_service_instance.delete',
  userProvidedShow: 'audit.user_provided_service_instance.show',
  bindingCreate: 'audit.service_binding.create',
  bindingDelete: 'audit.service_binding.delete',
  bindingShow: 'audit.service_binding.show',
} as const

/**
 * cf-ledger's own: CC changes feature flags and environment variable groups without an audit
 * event; here every change is recorded (docs/audit-events.md).
 */
export const PLATFORM_EVENT_TYPES = {
  featureFlagUpdate: 'audit.feature_flag.update',
  environmentVariableGroupUpdate: 'audit.environment_variable_group.update',
} as const

/** cf-ledger's own, written by the collector (docs/collect.md). */
export const COLLECT_EVENT_TYPES = {
  /** A foundation pruned events the collector had not read yet: the range is named, not hidden. */
  gap: 'audit.foundation.collect_gap',
} as const

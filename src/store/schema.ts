import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>

export interface UaaUsersTable {
  id: string
  username: string
  origin: string
  email: string
  given_name: string
  family_name: string
  password_hash: string | null
  scopes: ColumnType<string[], string[], string[]>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface OauthClientsTable {
  client_id: string
  secret_hash: string
  authorities: ColumnType<string[], string[], string[]>
  grant_types: ColumnType<string[], string[], string[]>
  created_at: Timestamp
}

export interface RefreshTokensTable {
  id: string
  token_hash: string
  user_id: string
  client_id: string
  scopes: ColumnType<string[], string[], string[]>
  expires_at: Timestamp
  revoked_at: Timestamp | null
  created_at: Timestamp
}

export interface SigningKeysTable {
  kid: string
  algorithm: string
  private_pem: string
  created_at: Timestamp
}

export interface UsersTable {
  guid: string
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface OrganizationsTable {
  guid: string
  name: string
  suspended: boolean
  quota_guid: ColumnType<string | null, string | null | undefined, string | null>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface SpacesTable {
  guid: string
  name: string
  organization_guid: string
  quota_guid: ColumnType<string | null, string | null | undefined, string | null>
  allow_ssh: ColumnType<boolean, boolean | undefined, boolean>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface RolesTable {
  guid: string
  type: string
  user_guid: string
  organization_guid: string | null
  space_guid: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface JobsTable {
  guid: string
  operation: string
  state: string
  resource_type: string
  resource_guid: string
  actor: Json
  errors: Json<unknown[]>
  warnings: Json<unknown[]>
  created_at: Timestamp
  updated_at: Timestamp
  owner: ColumnType<string | null, string | null | undefined, string | null>
  lease_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>
}

export interface LeasesTable {
  role: string
  holder: string
  term: number
  expires_at: Date
}

export interface ClusterKeysTable {
  purpose: string
  key_id: string
  private_pem: string | null
  public_pem: string
  created_at: ColumnType<Date, Date | undefined, never>
}

export interface EventsTable {
  seq: ColumnType<number, number, never>
  guid: string
  created_at: Timestamp
  type: string
  actor: string
  actor_type: string
  actor_name: string | null
  actor_username: string | null
  actee: string
  actee_type: string
  actee_name: string
  metadata: Json
  space_guid: string
  organization_guid: string
  prev_hash: string
  hash: string
}

export interface LedgerHeadTable {
  id: number
  seq: ColumnType<number, number, number>
  hash: string
}

export interface AppsTable {
  guid: string
  name: string
  space_guid: string
  state: string
  lifecycle: Json<{ type: string; data: { buildpacks: string[]; stack: string } }>
  current_droplet_guid: string | null
  environment_variables: Json<Record<string, string>>
  max_task_sequence_id: number
  enable_ssh: ColumnType<boolean, boolean | undefined, boolean>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface ProcessesTable {
  guid: string
  app_guid: string
  type: string
  command: string | null
  instances: number
  memory_in_mb: number
  disk_in_mb: number
  log_rate_limit_in_bytes_per_second: number
  health_check: Json<{ type: string; data: Record<string, unknown> }>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface BlobsTable {
  guid: string
  sha256: string
  size: number
  created_at: Timestamp
}

/** A blob's bytes, BLOB_CHUNK_BYTES per row (the last one shorter); `seq` counts from 0. */
export interface BlobChunksTable {
  blob_guid: string
  seq: number
  data: Buffer
}

export interface PackagesTable {
  guid: string
  app_guid: string
  type: string
  state: string
  blob_guid: string | null
  sha256: string | null
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface DropletsTable {
  guid: string
  app_guid: string
  package_guid: string | null
  state: string
  blob_guid: string | null
  sha256: string | null
  process_types: Json<Record<string, string>>
  execution_metadata: string
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface BuildsTable {
  guid: string
  app_guid: string
  package_guid: string
  droplet_guid: string | null
  state: string
  error: string | null
  created_by: Json
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

/** Who created a task and from where, kept for the task trail. */
export interface TaskCreator {
  readonly guid: string
  readonly type: string
  readonly name: string
  readonly username: string
  readonly origin: string
  readonly client_id: string
  readonly ip: string
  readonly user_agent: string
}

/** App, space and org names as they were when the task was created. */
export interface TargetNames {
  readonly app: string
  readonly space: string
  readonly organization: string
}

/** Migration 14 (docs/collect.md): an audit event read from another foundation, as CC returned it. */
export interface CollectedEventsTable {
  id: ColumnType<string | number, never, never>
  foundation: string
  guid: string
  created_at: Timestamp
  type: string
  actee: string
  space_guid: string
  organization_guid: string
  task_guid: string | null
  resource: Json<Record<string, unknown>>
  entry: Uint8Array
  collected_at: ColumnType<Date, Date | undefined, never>
}

export interface TasksTable {
  guid: string
  app_guid: string
  space_guid: string
  organization_guid: string
  sequence_id: number
  name: string
  command: string
  state: string
  memory_in_mb: number
  disk_in_mb: number
  log_rate_limit_in_bytes_per_second: number
  droplet_guid: string
  failure_reason: string | null
  exit_status: number | null
  started_at: Timestamp | null
  finished_at: Timestamp | null
  created_by: Json<TaskCreator>
  target_names: Json<TargetNames>
  /** HMAC-SHA256 of the command under the ledger's fingerprint key (docs/task-trail.md). */
  command_fingerprint: ColumnType<string | null, string | null | undefined, string | null>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
  // Migration 10 (docs/cluster.md): the claiming server instance, its lease and the fencing token.
  owner: ColumnType<string | null, string | null | undefined, string | null>
  lease_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  claim_token: ColumnType<number, number | undefined, number>
  launched_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  /** Migration 14 (docs/collect.md): the foundation a collected run came from; null for this server's own tasks. */
  foundation: ColumnType<string | null, string | null | undefined, string | null>
}

export interface QuotaColumns {
  guid: string
  name: string
  total_memory_in_mb: number | null
  per_process_memory_in_mb: number | null
  app_task_limit: number | null
  created_at: Timestamp
  updated_at: Timestamp
  // Migration 5 (docs/quotas.md); NULL is unlimited.
  total_instances: ColumnType<number | null, number | null | undefined, number | null>
  log_rate_limit_in_bytes_per_second: ColumnType<number | null, number | string | null | undefined, number | string | null>
  paid_services_allowed: ColumnType<boolean, boolean | undefined, boolean>
  total_service_instances: ColumnType<number | null, number | null | undefined, number | null>
  total_service_keys: ColumnType<number | null, number | null | undefined, number | null>
  total_routes: ColumnType<number | null, number | null | undefined, number | null>
  total_reserved_ports: ColumnType<number | null, number | null | undefined, number | null>
}

export interface OrganizationQuotasTable extends QuotaColumns {
  total_domains: ColumnType<number | null, number | null | undefined, number | null>
}

export interface SpaceQuotasTable extends QuotaColumns {
  organization_guid: string
}

export interface LedgerKeysTable {
  name: string
  value: string
  created_at: Timestamp
}

export interface SchemaMigrationsTable {
  version: number
  name: string
  applied_at: Generated<Date>
}

/** Durable task output: the summary of one task's output (docs/logs.md). */
export interface TaskOutputsTable {
  task_guid: string
  app_guid: string
  /** running | complete | interrupted (the server stopped while the task ran) */
  state: string
  started_at: Timestamp
  finished_at: Timestamp | null
  out_lines: ColumnType<number, number | undefined, number>
  err_lines: ColumnType<number, number | undefined, number>
  bytes: ColumnType<number, number | undefined, number>
  sha256: string | null
  dropped_lines: ColumnType<number, number | undefined, number>
  stored_records: ColumnType<number, number | undefined, number>
  stored_bytes: ColumnType<number, number | undefined, number>
  chunks: ColumnType<number, number | undefined, number>
  truncated_records: ColumnType<number, number | undefined, number>
  truncated_bytes: ColumnType<number, number | undefined, number>
  truncation_reasons: ColumnType<string[], string | undefined, string>
}

/** Records of one task's output, many per row (src/logs/records.ts). */
export interface TaskOutputChunksTable {
  task_guid: string
  seq: number
  first_record: number
  records: number
  data: Uint8Array
}

export interface ServiceInstancesTable {
  guid: string
  name: string
  type: string
  space_guid: string
  credentials: Json<Record<string, unknown>>
  syslog_drain_url: string | null
  route_service_url: string | null
  tags: Json<string[]>
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface ServiceBindingsTable {
  guid: string
  type: string
  name: string | null
  app_guid: string
  service_instance_guid: string
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

/** Last delivered (receiver-confirmed) seq per audit-event exporter (docs/export.md). */
export interface ExportCursorsTable {
  name: string
  seq: ColumnType<number, number, number>
  updated_at: Timestamp
}

export interface FeatureFlagsTable {
  name: string
  enabled: boolean
  error_message: string | null
  created_at: ColumnType<Date, Date | string | undefined, Date | string>
  updated_at: Timestamp
}

export interface EnvironmentVariableGroupsTable {
  name: string
  guid: string
  var: Json<Record<string, string>>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface AppUsageEventsTable {
  seq: ColumnType<number, never, never>
  guid: string
  created_at: ColumnType<Date, Date | string | undefined, never>
  state: string
  previous_state: string | null
  app_guid: string
  app_name: string
  space_guid: string
  space_name: string
  org_guid: string
  task_guid: string | null
  task_name: string | null
  memory_in_mb_per_instance: number
  instance_count: number
}

export interface Database {
  uaa_users: UaaUsersTable
  oauth_clients: OauthClientsTable
  refresh_tokens: RefreshTokensTable
  signing_keys: SigningKeysTable
  users: UsersTable
  organizations: OrganizationsTable
  spaces: SpacesTable
  roles: RolesTable
  jobs: JobsTable
  leases: LeasesTable
  cluster_keys: ClusterKeysTable
  events: EventsTable
  ledger_head: LedgerHeadTable
  apps: AppsTable
  processes: ProcessesTable
  blobs: BlobsTable
  blob_chunks: BlobChunksTable
  packages: PackagesTable
  droplets: DropletsTable
  builds: BuildsTable
  tasks: TasksTable
  collected_events: CollectedEventsTable
  organization_quotas: OrganizationQuotasTable
  space_quotas: SpaceQuotasTable
  ledger_keys: LedgerKeysTable
  schema_migrations: SchemaMigrationsTable
  task_outputs: TaskOutputsTable
  task_output_chunks: TaskOutputChunksTable
  service_instances: ServiceInstancesTable
  service_bindings: ServiceBindingsTable
  export_cursors: ExportCursorsTable
  feature_flags: FeatureFlagsTable
  environment_variable_groups: EnvironmentVariableGroupsTable
  app_usage_events: AppUsageEventsTable
}

export type OrganizationRow = Selectable<OrganizationsTable>
export type SpaceRow = Selectable<SpacesTable>
export type RoleRow = Selectable<RolesTable>
export type UaaUserRow = Selectable<UaaUsersTable>
export type JobRow = Selectable<JobsTable>
export type EventRow = Selectable<EventsTable>
export type AppRow = Selectable<AppsTable>
export type ProcessRow = Selectable<ProcessesTable>
export type PackageRow = Selectable<PackagesTable>
export type DropletRow = Selectable<DropletsTable>
export type BuildRow = Selectable<BuildsTable>
export type TaskRow = Selectable<TasksTable>
export type OrganizationQuotaRow = Selectable<OrganizationQuotasTable>
export type SpaceQuotaRow = Selectable<SpaceQuotasTable>
export type NewEvent = Omit<Insertable<EventsTable>, 'seq' | 'prev_hash' | 'hash'>
export type TaskOutputRow = Selectable<TaskOutputsTable>
export type ServiceInstanceRow = Selectable<ServiceInstancesTable>
export type ServiceBindingRow = Selectable<ServiceBindingsTable>
export type FeatureFlagRow = Selectable<FeatureFlagsTable>
export type EnvironmentVariableGroupRow = Selectable<EnvironmentVariableGroupsTable>
export type AppUsageEventRow = Selectable<AppUsageEventsTable>

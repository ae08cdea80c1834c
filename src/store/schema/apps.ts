// Table types (Kysely): Apps and what runs them: processes, bits, builds, droplets, tasks and their output, services, flags and environment groups.
import type { ColumnType } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

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

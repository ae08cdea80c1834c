// Table types (Kysely): Organizations, spaces, roles and quotas.
import type { ColumnType } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

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

// Table types (Kysely): What the servers coordinate through: jobs, leases, cluster keys, applied migrations.
import type { ColumnType } from 'kysely'
import type { Generated } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

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

export interface SchemaMigrationsTable {
  version: number
  name: string
  applied_at: Generated<Date>
}

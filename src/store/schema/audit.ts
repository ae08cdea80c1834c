// Table types (Kysely): The audit ledger (events, its head, its key), the export cursors and app usage events.
import type { ColumnType } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

export interface EventsTable {
  /** From a sequence: unique, increasing per insert, not in commit order (migration 0017). */
  seq: ColumnType<number, number | undefined, never>
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
  /** The hash chain, for events written before migration 0017 only; null after (their leaf is their integrity). */
  prev_hash: string | null
  hash: string | null
}

export interface LedgerHeadTable {
  id: number
  seq: ColumnType<number, number, number>
  hash: string
}

export interface LedgerKeysTable {
  name: string
  value: string
  created_at: Timestamp
}

/** Last delivered (receiver-confirmed) seq per audit-event exporter (docs/export.md). */
export interface ExportCursorsTable {
  name: string
  /** The largest event seq delivered (for reading only; `position` is the cursor). */
  seq: ColumnType<number, number, number>
  /** The ledger log position delivered up to (migration 0016). */
  position: ColumnType<number, number, number>
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

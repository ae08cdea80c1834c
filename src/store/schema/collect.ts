// Table types (Kysely): what the collector read from other foundations (docs/collect.md).
import type { ColumnType } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

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

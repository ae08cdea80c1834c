// Column helpers shared by the table types.
import type { ColumnType } from 'kysely'

export type Timestamp = ColumnType<Date, Date | string, Date | string>
export type Json<T = Record<string, unknown>> = ColumnType<T, string, string>

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
  created_at: Timestamp
  updated_at: Timestamp
  labels: Json<Record<string, string>>
  annotations: Json<Record<string, string>>
}

export interface SpacesTable {
  guid: string
  name: string
  organization_guid: string
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

export interface SchemaMigrationsTable {
  version: number
  name: string
  applied_at: Generated<Date>
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
  events: EventsTable
  ledger_head: LedgerHeadTable
  schema_migrations: SchemaMigrationsTable
}

export type OrganizationRow = Selectable<OrganizationsTable>
export type SpaceRow = Selectable<SpacesTable>
export type RoleRow = Selectable<RolesTable>
export type UaaUserRow = Selectable<UaaUsersTable>
export type JobRow = Selectable<JobsTable>
export type EventRow = Selectable<EventsTable>
export type NewEvent = Omit<Insertable<EventsTable>, 'seq' | 'prev_hash' | 'hash'>

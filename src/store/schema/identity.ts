// Table types (Kysely): UAA users, OAuth clients, refresh and signing keys, and CC users (auth/, actions/user-*).
import type { ColumnType } from 'kysely'
import type { Json, Timestamp } from './columns.ts'

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

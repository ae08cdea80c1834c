import crypto from 'node:crypto'
import type { Db } from '../store/store.ts'
import type { UaaUserRow } from '../store/schema.ts'
import { hashSecret, randomToken, sha256Hex, verifySecret } from './passwords.ts'
import type { TokenService, TokenSubject } from './tokens.ts'
import { badCredentials, invalidToken, UaaError } from './uaa-error.ts'

export const USER_SCOPES = [
  'openid',
  'cloud_controller.read',
  'cloud_controller.write',
  'password.write',
  'scim.me',
  'uaa.user',
] as const

export const ADMIN_SCOPES = [
  ...USER_SCOPES,
  'cloud_controller.admin',
  'scim.read',
  'scim.write',
  'clients.read',
  'clients.write',
  'uaa.admin',
] as const

/** Groups whose membership grants a scope; the group id is its display name. */
export const GRANTABLE_GROUPS = [
  'cloud_controller.admin',
  'cloud_controller.admin_read_only',
  'cloud_controller.global_auditor',
  'scim.read',
  'scim.write',
  'clients.write',
  'uaa.admin',
] as const

export interface TokenResponse {
  access_token: string
  token_type: 'bearer'
  refresh_token?: string
  expires_in: number
  scope: string
  jti: string
}

/** The UAA-compatible identity service: users, clients and the OAuth grants cf uses. */
export class Uaa {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly refreshTtlSeconds: number,
  ) {}

  async findUser(username: string, origin = 'uaa'): Promise<UaaUserRow | undefined> {
    return this.db
      .selectFrom('uaa_users')
      .selectAll()
      .where('username', '=', username)
      .where('origin', '=', origin)
      .executeTakeFirst()
  }

  async createUser(input: {
    username: string
    password?: string
    origin?: string
    email?: string
    givenName?: string
    familyName?: string
    scopes?: readonly string[]
  }): Promise<UaaUserRow> {
    const now = new Date()
    const row = {
      id: crypto.randomUUID(),
      username: input.username,
      origin: input.origin || 'uaa',
      email: input.email ?? (input.username.includes('@') ? input.username : ''),
      given_name: input.givenName ?? '',
      family_name: input.familyName ?? '',
      password_hash: input.password === undefined ? null : await hashSecret(input.password),
      scopes: [...(input.scopes ?? USER_SCOPES)],
      created_at: now,
      updated_at: now,
    }
    await this.db.insertInto('uaa_users').values(row).execute()
    return row
  }

  async passwordGrant(username: string, password: string, clientId: string): Promise<TokenResponse> {
    const user = await this.findUser(username)
    if (!user?.password_hash || !(await verifySecret(password, user.password_hash))) throw badCredentials()
    return this.issueForUser(user, clientId, 'password')
  }

  async clientCredentialsGrant(clientId: string, secret: string): Promise<TokenResponse> {
    const client = await this.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
    if (!client || !client.grant_types.includes('client_credentials') || !(await verifySecret(secret, client.secret_hash))) {
      throw badCredentials()
    }
    const subject: TokenSubject = { kind: 'client', clientId, scopes: client.authorities, grantType: 'client_credentials' }
    const access = await this.tokens.issueAccessToken(subject)
    return { access_token: access.token, token_type: 'bearer', expires_in: access.expiresIn, scope: client.authorities.join(' '), jti: access.jti }
  }

  /** Rotates: the presented refresh token is revoked and a new one issued. */
  async refreshGrant(refreshToken: string, clientId: string): Promise<TokenResponse> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_hash', '=', sha256Hex(refreshToken))
      .executeTakeFirst()
    if (!row || row.client_id !== clientId) throw invalidToken('Invalid refresh token')
    if (row.revoked_at) throw invalidToken('Invalid refresh token (revoked)')
    if (new Date(row.expires_at) < new Date()) throw invalidToken('Invalid refresh token (expired)')
    const revoked = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (Number(revoked.numUpdatedRows) !== 1) throw invalidToken('Invalid refresh token (revoked)')
    const user = await this.db.selectFrom('uaa_users').selectAll().where('id', '=', row.user_id).executeTakeFirst()
    if (!user) throw invalidToken('Invalid refresh token (user deleted)')
    return this.issueForUser(user, clientId, 'refresh_token')
  }

  private async issueForUser(user: UaaUserRow, clientId: string, grantType: string): Promise<TokenResponse> {
    const access = await this.tokens.issueAccessToken({
      kind: 'user',
      userId: user.id,
      username: user.username,
      email: user.email || user.username,
      origin: user.origin,
      clientId,
      scopes: user.scopes,
      grantType,
    })
    const refresh = randomToken()
    const now = new Date()
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id: `${crypto.randomUUID().replace(/-/g, '')}-r`,
        token_hash: sha256Hex(refresh),
        user_id: user.id,
        client_id: clientId,
        scopes: user.scopes,
        expires_at: new Date(now.getTime() + this.refreshTtlSeconds * 1000),
        revoked_at: null,
        created_at: now,
      })
      .execute()
    return {
      access_token: access.token,
      token_type: 'bearer',
      refresh_token: refresh,
      expires_in: access.expiresIn,
      scope: user.scopes.join(' '),
      jti: access.jti,
    }
  }

  /** Revokes every refresh token of a user (UAA's per-user revocation). */
  async revokeUserTokens(userId: string): Promise<number> {
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(r.numUpdatedRows)
  }

  async createClient(input: { clientId: string; secret: string; authorities: readonly string[]; grantTypes: readonly string[] }) {
    const exists = await this.db.selectFrom('oauth_clients').select('client_id').where('client_id', '=', input.clientId).executeTakeFirst()
    if (exists) throw new UaaError(409, 'invalid_client', 'Client already exists: ' + input.clientId)
    await this.db
      .insertInto('oauth_clients')
      .values({
        client_id: input.clientId,
        secret_hash: await hashSecret(input.secret),
        authorities: [...input.authorities],
        grant_types: [...input.grantTypes],
        created_at: new Date(),
      })
      .execute()
  }

  /** SCIM's user search (at most 500, oldest first), by the filter's userName, origin and id. */
  searchUsers(f: { username?: string; origin?: string; id?: string }): Promise<UaaUserRow[]> {
    let q = this.db.selectFrom('uaa_users').selectAll().orderBy('created_at').limit(500)
    if (f.username !== undefined) q = q.where('username', '=', f.username)
    if (f.origin !== undefined) q = q.where('origin', '=', f.origin)
    if (f.id !== undefined) q = q.where('id', '=', f.id)
    return q.execute()
  }

  userById(id: string): Promise<UaaUserRow | undefined> {
    return this.db.selectFrom('uaa_users').selectAll().where('id', '=', id).executeTakeFirst()
  }

  /** Deletes the user and revokes its refresh tokens, in one transaction. */
  async deleteUser(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('user_id', '=', id).where('revoked_at', 'is', null).execute()
      await tx.deleteFrom('uaa_users').where('id', '=', id).execute()
    })
  }

  /** Grants the group's scope to the user (a no-op when it has it). */
  async addToGroup(user: UaaUserRow, group: string): Promise<void> {
    if (user.scopes.includes(group)) return
    await this.db.updateTable('uaa_users').set({ scopes: [...user.scopes, group], updated_at: new Date() }).where('id', '=', user.id).execute()
  }

  findClient(clientId: string) {
    return this.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
  }
}

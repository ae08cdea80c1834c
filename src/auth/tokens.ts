import crypto from 'node:crypto'
import { promisify } from 'node:util'
import { SignJWT, exportJWK, jwtVerify, type JWK, type JWTPayload } from 'jose'
import type { Db } from '../store/store.ts'
import type { Principal } from './principal.ts'

export interface TokenSubject {
  readonly kind: 'user' | 'client'
  readonly userId?: string
  readonly username?: string
  readonly email?: string
  readonly origin?: string
  readonly clientId: string
  readonly scopes: readonly string[]
  readonly grantType: string
}

export interface SigningKey {
  readonly kid: string
  readonly privateKey: crypto.KeyObject
  readonly publicKey: crypto.KeyObject
  readonly publicJwk: JWK
}

/** A new RS256 key as PKCS#8 PEM, made on the thread pool: its prime search takes 0.1–0.8 s. */
export async function newSigningKeyPem(): Promise<string> {
  const { privateKey } = await promisify(crypto.generateKeyPair)('rsa', { modulusLength: 2048 })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** Loads the RS256 signing key from the store, creating it the first time. */
export async function loadSigningKey(db: Db): Promise<SigningKey> {
  // The first key stored wins, for every server sharing the database (they may race to create it).
  let row = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').executeTakeFirst()
  if (!row) {
    const candidate = {
      kid: `key-${crypto.randomUUID().slice(0, 8)}`,
      algorithm: 'RS256',
      private_pem: await newSigningKeyPem(),
      created_at: new Date(),
    }
    // Another instance may have raced us; whichever row landed first wins.
    await db.insertInto('signing_keys').values(candidate).onConflict((oc) => oc.doNothing()).execute()
    row = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').executeTakeFirstOrThrow()
  }
  const privateKey = crypto.createPrivateKey(row.private_pem)
  const publicKey = crypto.createPublicKey(row.private_pem)
  const publicJwk = { ...(await exportJWK(publicKey)), kid: row.kid, alg: 'RS256', use: 'sig' }
  return { kid: row.kid, privateKey, publicKey, publicJwk }
}

/** Tokens whose signature was checked, kept until they expire: clients send one token many times. */
const VERIFIED_CACHE = 1024

export class TokenService {
  private readonly verified = new Map<string, { readonly principal: Principal; readonly expiresAt: number }>()

  private loading: Promise<SigningKey> | undefined

  /**
   * `load` gives the signing key, on first use: a new store's RSA key (0.1–0.9 s of CPU) is made
   * after the server listens, not during its start; a load that failed is tried again next time.
   */
  constructor(
    private readonly load: () => Promise<SigningKey>,
    private readonly issuer: string,
    private readonly ttl: { user: number; client: number },
  ) {}

  /** Loads (or creates) the signing key now; rejects when it cannot be. */
  async ready(): Promise<void> {
    await this.key()
  }

  private key(): Promise<SigningKey> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined
      throw err
    })
    return this.loading
  }

  async publicJwk(): Promise<JWK> {
    return (await this.key()).publicJwk
  }

  async issueAccessToken(s: TokenSubject): Promise<{ token: string; jti: string; expiresIn: number }> {
    const jti = crypto.randomUUID().replace(/-/g, '')
    const expiresIn = s.kind === 'client' ? this.ttl.client : this.ttl.user
    const claims: Record<string, unknown> = {
      jti,
      client_id: s.clientId,
      cid: s.clientId,
      azp: s.clientId,
      grant_type: s.grantType,
      scope: [...s.scopes],
      revocable: false,
      zid: 'uaa',
      aud: [...new Set(s.scopes.map((x) => x.split('.')[0]!))],
    }
    if (s.kind === 'user') {
      Object.assign(claims, {
        user_id: s.userId,
        user_name: s.username,
        email: s.email,
        origin: s.origin,
      })
    }
    const key = await this.key()
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuedAt()
      .setIssuer(this.issuer)
      .setSubject(s.kind === 'user' ? s.userId! : s.clientId)
      .setExpirationTime(`${expiresIn}s`)
      .sign(key.privateKey)
    return { token, jti, expiresIn }
  }

  /**
   * Verifies signature, issuer and expiry; returns undefined for any invalid token. A token seen
   * before is the same bytes under the same key, so only its expiry is checked again (the RSA
   * verification was a tenth of a task creation's CPU).
   */
  async verify(token: string): Promise<Principal | undefined> {
    const seen = this.verified.get(token)
    if (seen && Date.now() < seen.expiresAt) return seen.principal
    if (seen) this.verified.delete(token)
    const checked = await this.check(token)
    if (checked) {
      if (this.verified.size >= VERIFIED_CACHE) this.verified.delete(this.verified.keys().next().value!)
      this.verified.set(token, checked)
    }
    return checked?.principal
  }

  private async check(token: string): Promise<{ principal: Principal; expiresAt: number } | undefined> {
    try {
      const { payload } = await jwtVerify(token, (await this.key()).publicKey, { issuer: this.issuer, algorithms: ['RS256'] })
      const principal = principalOf(payload)
      // A token without exp (none is issued here) stays valid but is not cached.
      return { principal, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : 0 }
    } catch {
      return undefined
    }
  }
}

function principalOf(payload: JWTPayload): Principal {
  const scopes = Array.isArray(payload.scope) ? (payload.scope as string[]) : []
  const clientId = String(payload.client_id ?? '')
  if (typeof payload.user_id === 'string') {
    return {
      guid: payload.user_id,
      kind: 'user',
      username: String(payload.user_name ?? ''),
      email: String(payload.email ?? ''),
      origin: String(payload.origin ?? 'uaa'),
      clientId,
      scopes: new Set(scopes),
      tokenId: String(payload.jti ?? ''),
    }
  }
  return {
    guid: clientId,
    kind: 'client',
    username: clientId,
    email: '',
    origin: '',
    clientId,
    scopes: new Set(scopes),
    tokenId: String(payload.jti ?? ''),
  }
}

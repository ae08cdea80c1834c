// The CLI's login state, kept like cf keeps ~/.cf/config.json: API URL, tokens, refreshed when near expiry.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { read } from '../settings/read.ts'
import { S } from '../settings/table.ts'

export interface Session {
  api: string
  accessToken: string
  refreshToken?: string
  /** client_credentials logins cannot refresh; they log in again with the stored client id only. */
  clientId?: string
}

export class CliError extends Error {}

export function configPath(): string {
  const home = read(S.cliHome, process.env) ?? path.join(os.homedir(), '.cf-ledger')
  return path.join(home, 'config.json')
}

export function loadSession(): Session {
  const file = configPath()
  if (!fs.existsSync(file)) throw new CliError("Not logged in. Use 'cf-ledger login --api URL -u USER -p PASSWORD' first.")
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Session
}

export function saveSession(s: Session): void {
  const file = configPath()
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  fs.writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 })
}

function expiresAt(jwt: string): number {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { exp?: number }
    return (claims.exp ?? 0) * 1000
  } catch {
    return 0
  }
}

async function tokenRequest(api: string, form: Record<string, string>): Promise<{ access_token: string; refresh_token?: string }> {
  let res: Response
  try {
    res = await fetch(`${api}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(form.grant_type === 'client_credentials' ? {} : { authorization: `Basic ${Buffer.from('cf:').toString('base64')}` }),
      },
      body: new URLSearchParams(form).toString(),
    })
  } catch (err) {
    throw new CliError(`Cannot reach ${api}: ${(err as Error).message}`)
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; refresh_token?: string; error_description?: string }
  if (!res.ok || !body.access_token) {
    throw new CliError(res.status === 401 ? `Authentication failed: ${body.error_description ?? 'bad credentials'}` : `Token request failed (${res.status})`)
  }
  return { access_token: body.access_token, refresh_token: body.refresh_token }
}

export async function login(api: string, creds: { username?: string; password?: string; clientId?: string; clientSecret?: string }): Promise<Session> {
  const base = api.replace(/\/$/, '')
  const t = creds.clientId
    ? await tokenRequest(base, { grant_type: 'client_credentials', client_id: creds.clientId, client_secret: creds.clientSecret ?? '' })
    : await tokenRequest(base, { grant_type: 'password', username: creds.username ?? '', password: creds.password ?? '' })
  const session: Session = { api: base, accessToken: t.access_token, refreshToken: t.refresh_token, clientId: creds.clientId }
  saveSession(session)
  return session
}

/** Returns a session whose access token is valid for at least another minute. */
export async function freshSession(): Promise<Session> {
  const s = loadSession()
  if (expiresAt(s.accessToken) - Date.now() > 60_000) return s
  if (!s.refreshToken) throw new CliError("The token expired. Log in again with 'cf-ledger login'.")
  const t = await tokenRequest(s.api, { grant_type: 'refresh_token', refresh_token: s.refreshToken }).catch(() => {
    throw new CliError("The token expired or was revoked. Log in again with 'cf-ledger login'.")
  })
  const next = { ...s, accessToken: t.access_token, refreshToken: t.refresh_token ?? s.refreshToken }
  saveSession(next)
  return next
}

/** GET a JSON path of the API with the stored session; CF errors become CliErrors with their detail. */
export async function apiGet<T = unknown>(pathAndQuery: string): Promise<T> {
  const s = await freshSession()
  let res: Response
  try {
    res = await fetch(`${s.api}${pathAndQuery}`, { headers: { authorization: `bearer ${s.accessToken}`, accept: 'application/json' } })
  } catch (err) {
    throw new CliError(`Cannot reach ${s.api}: ${(err as Error).message}`)
  }
  const body = (await res.json().catch(() => undefined)) as { errors?: { detail: string }[] } | undefined
  if (!res.ok) throw new CliError(body?.errors?.[0]?.detail ?? `Request failed: ${res.status} ${pathAndQuery}`)
  return body as T
}

/** GET a text resource (a proof file) with the stored session; undefined on 422 (not available yet). */
export async function apiGetText(pathAndQuery: string): Promise<string | undefined> {
  const s = await freshSession()
  let res: Response
  try {
    res = await fetch(`${s.api}${pathAndQuery}`, { headers: { authorization: `bearer ${s.accessToken}` } })
  } catch (err) {
    throw new CliError(`Cannot reach ${s.api}: ${(err as Error).message}`)
  }
  const text = await res.text()
  if (res.status === 422) return undefined
  if (!res.ok) throw new CliError(`Request failed: ${res.status} ${pathAndQuery}`)
  return text
}

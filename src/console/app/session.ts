// The signed-in user's tokens: kept in sessionStorage (this tab, until it closes or the user signs
// out), never in a URL or localStorage. Every API call goes through `api()`, which sends the access
// token as a header, refreshes it once on expiry and signs out when the refresh is refused.

const KEY = 'cf-ledger-console-session'
// The cf CLI's public client (HTTP Basic "cf:" with an empty secret), as UAA expects.
const CLIENT_BASIC = `Basic ${btoa('cf:')}`

export interface Session {
  readonly accessToken: string
  readonly refreshToken: string
  /** Epoch ms when the access token expires. */
  readonly expiresAt: number
  readonly username: string
  readonly scopes: readonly string[]
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message)
  }
}

type Listener = (s: Session | null) => void
const listeners = new Set<Listener>()
let current: Session | null = load()

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as Session) : null
  } catch {
    return null
  }
}

function set(s: Session | null): void {
  current = s
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s))
  else sessionStorage.removeItem(KEY)
  for (const l of listeners) l(s)
}

export const session = (): Session | null => current
export function onSession(l: Listener): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}

function claims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  const json = atob(
    part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '='),
  )
  return JSON.parse(
    new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))),
  ) as Record<string, unknown>
}

function errorText(body: unknown, status: number): string {
  const b = body as {
    errors?: { detail?: string }[]
    error_description?: string
    description?: string
  } | null
  return b?.errors?.[0]?.detail ?? b?.error_description ?? b?.description ?? `HTTP ${status}`
}

async function tokenRequest(form: Record<string, string>): Promise<Session> {
  const res = await fetch('/oauth/token', {
    method: 'POST',
    headers: {
      authorization: CLIENT_BASIC,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form).toString(),
    credentials: 'omit',
    cache: 'no-store',
  })
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null
  if (!res.ok || !body)
    throw new ApiError(
      res.status,
      res.status === 401 ? 'Wrong username or password.' : errorText(body, res.status),
      body,
    )
  const access = String(body.access_token)
  const c = claims(access)
  return {
    accessToken: access,
    refreshToken: String(body.refresh_token ?? ''),
    expiresAt: Date.now() + Number(body.expires_in ?? 0) * 1000,
    username: String(c.user_name ?? c.client_id ?? ''),
    scopes: Array.isArray(c.scope) ? c.scope.map(String) : String(body.scope ?? '').split(' '),
  }
}

export async function signIn(username: string, password: string): Promise<void> {
  set(await tokenRequest({ grant_type: 'password', username, password }))
}

export function signOut(): void {
  set(null)
}

let refreshing: Promise<Session | null> | null = null
async function refresh(): Promise<Session | null> {
  const s = current
  if (!s?.refreshToken) return null
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: s.refreshToken })
    .then((n) => (set(n), n))
    .catch(() => (set(null), null))
    .finally(() => (refreshing = null))
  return refreshing
}

/** A token that is valid for at least the next 30 s, refreshing it first when needed. */
async function token(): Promise<string | null> {
  if (current && current.expiresAt - Date.now() < 30_000) await refresh()
  return current?.accessToken ?? null
}

/** fetch() against the server with the user's token; one refresh-and-retry on a 401. */
export async function authedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const go = async (t: string | null) =>
    fetch(path, {
      ...init,
      credentials: 'omit',
      cache: 'no-store',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(t ? { authorization: `bearer ${t}` } : {}),
      },
    })
  let res = await go(await token())
  if (res.status === 401 && current) {
    const n = await refresh()
    if (n) res = await go(n.accessToken)
  }
  return res
}

/** A JSON API call; non-2xx answers throw an ApiError with CF's error text. */
export async function api<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await authedFetch(path, {
    ...init,
    headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
  })
  const body = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, errorText(body, res.status), body)
  return body as T
}

export const isAdmin = (s: Session | null) => !!s?.scopes.includes('cloud_controller.admin')
export const canWrite = (s: Session | null) =>
  !!s &&
  (s.scopes.includes('cloud_controller.admin') || s.scopes.includes('cloud_controller.write'))

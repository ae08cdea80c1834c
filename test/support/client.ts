// A small HTTP client for tests: tokens, JSON requests, and helpers to set up orgs, spaces and users.
import { ADMIN_PASSWORD } from './server.ts'

export interface Reply<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly status: number
  readonly body: T
  readonly headers: Headers
}

export class Api {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  as(token: string): Api {
    return new Api(this.url, token)
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers }
  }

  get = (path: string) => this.request('GET', path)
  post = (path: string, body?: unknown) => this.request('POST', path, body ?? {})
  patch = (path: string, body: unknown) => this.request('PATCH', path, body)
  put = (path: string, body?: unknown) => this.request('PUT', path, body ?? {})
  delete = (path: string) => this.request('DELETE', path)

  async passwordToken(username: string, password: string): Promise<Reply> {
    return this.request('POST', '/oauth/token', new URLSearchParams({ grant_type: 'password', username, password }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('cf:').toString('base64')}`,
    })
  }

  async login(username: string, password: string): Promise<Api> {
    const r = await this.passwordToken(username, password)
    if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`)
    return this.as(r.body.access_token)
  }

  admin(): Promise<Api> {
    return this.login('admin', ADMIN_PASSWORD)
  }

  /** Polls a job's Location until it leaves PROCESSING. */
  async waitForJob(location: string): Promise<Reply> {
    const path = location.replace(this.url, '')
    for (let i = 0; i < 200; i++) {
      const r = await this.get(path)
      if (r.body?.state !== 'PROCESSING') return r
      await new Promise((res) => setTimeout(res, 50))
    }
    throw new Error(`job ${location} did not finish`)
  }
}

export function expectOk<T extends Pick<Reply, 'status' | 'body'>>(r: T, status = 200): T {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`)
  return r
}

/** Creates an org, a space and users with the given roles; returns their guids and tokens. */
export async function createUser(admin: Api, username: string, password = 'pw-' + username): Promise<{ guid: string; api: Api }> {
  const u = expectOk(await admin.post('/Users', { userName: username, password, emails: [{ value: `${username}@example.com` }] }), 201)
  expectOk(await admin.post('/v3/users', { guid: u.body.id }), 201)
  return { guid: u.body.id, api: await admin.login(username, password) }
}

export async function createOrgAndSpace(admin: Api, org: string, space: string): Promise<{ orgGuid: string; spaceGuid: string }> {
  const o = expectOk(await admin.post('/v3/organizations', { name: org }), 201)
  const s = expectOk(
    await admin.post('/v3/spaces', { name: space, relationships: { organization: { data: { guid: o.body.guid } } } }),
    201,
  )
  return { orgGuid: o.body.guid, spaceGuid: s.body.guid }
}

export async function grant(admin: Api, type: string, userGuid: string, target: { org?: string; space?: string }): Promise<void> {
  const relationships: Record<string, unknown> = { user: { data: { guid: userGuid } } }
  if (target.org) relationships.organization = { data: { guid: target.org } }
  if (target.space) relationships.space = { data: { guid: target.space } }
  expectOk(await admin.post('/v3/roles', { type, relationships }), 201)
}

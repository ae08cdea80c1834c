// A Cloud Controller client for the collector: root discovery (GET / links, as the cf CLI does),
// UAA client-credentials tokens renewed before they expire and after a 401, and retries with
// back-off on network errors, 5xx and 429 (Retry-After honoured).
import http from 'node:http'
import https from 'node:https'
import type { FoundationConfig } from './config.ts'

export interface Endpoints {
  readonly api: string
  readonly uaa: string
  readonly logCache: string | undefined
}

export class CcRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message)
  }
}

interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export interface RetryPolicy {
  readonly attempts: number
  readonly baseMs: number
  readonly maxMs: number
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 60_000 }

/** Seconds or an HTTP date (RFC 9110 §10.2.3) → milliseconds to wait. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
  })

export class CcClient {
  private endpoints: Endpoints | undefined
  private token: { value: string; expiresAt: number } | undefined
  private readonly agent: http.Agent
  /** Requests answered, and retries made (429, 5xx, network), for the bench and /metrics. */
  readonly stats = { requests: 0, retries: 0, throttled: 0 }

  constructor(
    readonly foundation: FoundationConfig,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly signal?: AbortSignal,
  ) {
    this.agent = foundation.api.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ca: foundation.ca, rejectUnauthorized: !foundation.skipSslValidation })
      : new http.Agent({ keepAlive: true })
  }

  close(): void {
    this.agent.destroy()
  }

  private send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
    const u = new URL(url)
    const mod = u.protocol === 'https:' ? https : http
    const agent = u.protocol === (this.foundation.api.startsWith('https:') ? 'https:' : 'http:') ? this.agent : undefined
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        { method: opts.method ?? 'GET', headers: { accept: 'application/json', ...opts.headers }, agent, ...(u.protocol === 'https:' ? { ca: this.foundation.ca, rejectUnauthorized: !this.foundation.skipSslValidation } : {}) },
        (res) => {
          const parts: Buffer[] = []
          res.on('data', (d: Buffer) => parts.push(d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }))
          res.on('error', reject)
        },
      )
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${u.host} in 30 s`)))
      req.on('error', reject)
      req.end(opts.body)
    })
  }

  /** One request with retries: network errors and 5xx back off exponentially, 429 waits Retry-After. */
  private async withRetries(url: string, opts: Parameters<CcClient['send']>[1]): Promise<Answer> {
    let wait = this.retry.baseMs
    for (let attempt = 1; ; attempt++) {
      let answer: Answer | undefined
      let failure: string
      try {
        answer = await this.send(url, opts)
        this.stats.requests++
        if (answer.status !== 429 && answer.status < 500) return answer
        failure = `${answer.status} from ${new URL(url).pathname}`
      } catch (err) {
        failure = (err as Error).message
      }
      if (attempt >= this.retry.attempts || this.signal?.aborted) throw new CcRequestError(`${this.foundation.name}: ${failure} (after ${attempt} attempts)`, answer?.status)
      this.stats.retries++
      const hinted = answer?.status === 429 || answer?.status === 503 ? retryAfterMs(answer.headers['retry-after'] as string | undefined) : undefined
      if (answer?.status === 429) this.stats.throttled++
      await sleep(Math.min(this.retry.maxMs, hinted ?? wait), this.signal)
      wait = Math.min(this.retry.maxMs, wait * 2)
    }
  }

  /** The API root's links (uaa or login, log_cache), read once. */
  async discover(): Promise<Endpoints> {
    if (this.endpoints) return this.endpoints
    const root = await this.withRetries(`${this.foundation.api}/`, {})
    if (root.status !== 200) throw new CcRequestError(`${this.foundation.name}: GET ${this.foundation.api}/ answered ${root.status}; is this a Cloud Foundry API?`, root.status)
    let links: Record<string, { href?: string } | null>
    try {
      links = (JSON.parse(root.body) as { links: typeof links }).links
    } catch {
      throw new CcRequestError(`${this.foundation.name}: GET ${this.foundation.api}/ is not Cloud Controller's JSON root`, root.status)
    }
    const uaa = links?.uaa?.href ?? links?.login?.href
    if (!uaa) throw new CcRequestError(`${this.foundation.name}: the API root names no uaa or login link`, root.status)
    this.endpoints = { api: this.foundation.api, uaa: uaa.replace(/\/+$/, ''), logCache: links.log_cache?.href?.replace(/\/+$/, '') }
    return this.endpoints
  }

  /** A client-credentials token, renewed a minute before it expires (this grant has no refresh token). */
  private async accessToken(force = false): Promise<string> {
    if (!force && this.token && this.token.expiresAt - 60_000 > Date.now()) return this.token.value
    const { uaa } = await this.discover()
    const basic = Buffer.from(`${encodeURIComponent(this.foundation.clientId)}:${encodeURIComponent(this.foundation.clientSecret)}`).toString('base64')
    const r = await this.withRetries(`${uaa}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: 'grant_type=client_credentials&response_type=token',
    })
    if (r.status !== 200) {
      const why = r.status === 401 ? 'the client id or secret is wrong' : `UAA answered ${r.status}`
      throw new CcRequestError(`${this.foundation.name}: cannot get a token for client '${this.foundation.clientId}' from ${uaa}: ${why}`, r.status)
    }
    const t = JSON.parse(r.body) as { access_token: string; expires_in?: number }
    this.token = { value: t.access_token, expiresAt: Date.now() + (t.expires_in ?? 600) * 1000 }
    return t.access_token
  }

  /** GET a CC path (or an absolute `next` link) as JSON; a 401 renews the token once. */
  async get<T>(pathOrUrl: string, base: 'api' | 'logCache' = 'api'): Promise<T> {
    const ep = await this.discover()
    const root = base === 'api' ? ep.api : ep.logCache
    if (!root) throw new CcRequestError(`${this.foundation.name}: the API root names no log_cache link`, undefined)
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${root}${pathOrUrl}`
    for (let renewed = false; ; renewed = true) {
      const r = await this.withRetries(url, { headers: { authorization: `bearer ${await this.accessToken(renewed)}` } })
      if (r.status === 401 && !renewed) continue
      if (r.status !== 200) {
        const hint = r.status === 403 ? ' (the client lacks a scope; docs/collect.md lists them)' : ''
        throw new CcRequestError(`${this.foundation.name}: GET ${new URL(url).pathname} answered ${r.status}${hint}: ${r.body.slice(0, 300)}`, r.status)
      }
      return JSON.parse(r.body) as T
    }
  }
}

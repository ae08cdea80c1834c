// Syslog drains: every envelope of a bound app goes into each of its drains' bounded buffers, and
// one writer per drain sends them in order (syslog:// and syslog-tls:// as octet-counted RFC 5424
// frames on one connection; https:// one POST per message; https-batch:// many per POST).
// A line leaves the buffer only once written (TCP/TLS: handed to the kernel; https: 2xx) or when
// the buffer overflows (the oldest waiting lines go first, as CF's diode overwrites them); drops
// are counted per drain and reported to the app's own stream as the syslog agent does.
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import type { Logger } from 'pino'
import { obfuscateUrlCredentials } from '../audit/redaction.ts'
import type { Db } from '../store/store.ts'
import type { LogConfig } from './config.ts'
import { drainLossNotice, type Envelope } from './envelope.ts'
import { anonymousUrl, parseDrainUrl, type DrainPolicy, type ParsedDrainUrl } from './drain-url.ts'
import { octetFrame, rfc5424 } from './syslog.ts'

export interface DrainApp {
  readonly guid: string
  readonly name: string
  readonly spaceGuid: string
  readonly spaceName: string
  readonly orgGuid: string
  readonly orgName: string
}

export interface DrainBinding {
  readonly bindingGuid: string
  readonly serviceInstanceGuid: string
  readonly url: string
  readonly credentials: Readonly<Record<string, unknown>>
  readonly app: DrainApp
}

export interface DrainStats {
  readonly binding_guid: string
  readonly service_instance_guid: string
  readonly app_guid: string
  readonly url: string
  readonly scheme: string
  readonly connected: boolean
  readonly sent: number
  readonly dropped: number
  readonly buffered_lines: number
  readonly buffered_bytes: number
  readonly last_error: string | null
}

/** How a drain reports to its app's stream (`[LGR/0] ERR …`). */
export type DrainNotify = (drain: Drain, text: string) => void

interface Transport {
  /** Sends the batch; resolves once written. Throws on failure (the batch is sent again). */
  send(batch: readonly Envelope[]): Promise<void>
  readonly connected: boolean
  close(): void
}

class PermanentFailure extends Error {}
class Refused extends Error {}

const sleep = (ms: number, signal?: { closed: boolean }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    if (signal?.closed) {
      clearTimeout(t)
      resolve()
    }
  })

function tlsOptions(creds: Readonly<Record<string, unknown>>, skipVerify: boolean) {
  const str = (k: string) => (typeof creds[k] === 'string' && creds[k] ? (creds[k] as string) : undefined)
  return { ca: str('ca'), cert: str('cert'), key: str('key'), rejectUnauthorized: !skipVerify }
}

class SocketTransport implements Transport {
  private socket: net.Socket | undefined

  constructor(
    private readonly target: ParsedDrainUrl,
    private readonly creds: Readonly<Record<string, unknown>>,
    private readonly cfg: LogConfig,
    private readonly policy: DrainPolicy,
    private readonly onConnect: () => void,
  ) {}

  get connected(): boolean {
    return this.socket !== undefined
  }

  private async connect(): Promise<net.Socket> {
    const refused = await this.policy.refusal(this.target.host, this.target.port)
    if (refused) throw new Refused(`refused: ${refused}`)
    const { host, port } = this.target
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s =
        this.target.scheme === 'syslog-tls'
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...tlsOptions(this.creds, this.cfg.drainSkipCertVerify) })
          : net.connect({ host, port })
      const timer = setTimeout(() => s.destroy(new Error('connect timed out')), 10_000)
      s.once(this.target.scheme === 'syslog-tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        s.removeListener('error', reject)
        resolve(s)
      })
      s.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    // The receiver closing its side means nothing more will be read: stop writing at once.
    const drop = () => {
      if (this.socket === socket) this.socket = undefined
      socket.destroy()
    }
    socket.on('end', drop)
    socket.on('close', drop)
    socket.on('error', drop)
    socket.on('data', () => {}) // receivers do not answer; keep the stream flowing
    this.socket = socket
    this.onConnect()
    return socket
  }

  async send(batch: readonly Envelope[]): Promise<void> {
    const socket = this.socket ?? (await this.connect())
    let text = ''
    for (const e of batch) text += octetFrame(rfc5424(e, this.target.withMetadata))
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('connection closed'))
      socket.once('close', onClose)
      socket.write(text, (err) => {
        socket.removeListener('close', onClose)
        if (err) reject(err)
        else resolve()
      })
    })
  }

  close(): void {
    this.socket?.destroy()
    this.socket = undefined
  }
}

class HttpsTransport implements Transport {
  private readonly agent: https.Agent
  private ok = false
  /** The address policy is checked once a minute, not per message. */
  private checkedAt = 0

  constructor(
    private readonly target: ParsedDrainUrl,
    creds: Readonly<Record<string, unknown>>,
    cfg: LogConfig,
    private readonly policy: DrainPolicy,
    private readonly onConnect: () => void,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(creds, cfg.drainSkipCertVerify) })
  }

  get connected(): boolean {
    return this.ok
  }

  async send(batch: readonly Envelope[]): Promise<void> {
    if (Date.now() - this.checkedAt > 60_000) {
      const refused = await this.policy.refusal(this.target.host, this.target.port)
      if (refused) throw new Refused(`refused: ${refused}`)
      this.checkedAt = Date.now()
    }
    let body = ''
    for (const e of batch) body += rfc5424(e, this.target.withMetadata)
    const u = this.target.url
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host: this.target.host,
          port: this.target.port,
          path: `${u.pathname}${u.search}`,
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'content-length': Buffer.byteLength(body),
            ...(u.username ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` } : {}),
          },
          servername: net.isIP(this.target.host) ? undefined : this.target.host,
          timeout: 20_000,
        },
        (res: http.IncomingMessage) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error('request timed out')))
      req.on('error', reject)
      req.end(body)
    })
    if (status >= 200 && status < 300) {
      if (!this.ok) this.onConnect()
      this.ok = true
      return
    }
    this.ok = false
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new PermanentFailure(`the drain answered ${status}`)
    throw new Error(`the drain answered ${status}`)
  }

  close(): void {
    this.ok = false
    this.agent.destroy()
  }
}

export class Drain {
  private items: Envelope[] = []
  private head = 0
  private bytes = 0
  private inflight: Envelope[] = []
  private wake: (() => void) | undefined
  private firstWaitingAt = 0
  private closedFlag = { closed: false }
  private transport: Transport
  private failures = 0
  private reportedFailure = false
  private unreported = 0
  private reportTimer: NodeJS.Timeout | undefined
  readonly target: ParsedDrainUrl
  readonly anonymous: string
  sent = 0
  dropped = 0
  lastError: string | null = null
  private loop: Promise<void> | undefined

  constructor(
    readonly binding: DrainBinding,
    private readonly cfg: LogConfig,
    policy: DrainPolicy,
    private readonly notify: DrainNotify,
    private readonly logger: Logger,
  ) {
    this.target = parseDrainUrl(binding.url)!
    this.anonymous = anonymousUrl(binding.url)
    const onConnect = () => {
      this.failures = 0
      this.reportedFailure = false
      this.lastError = null
    }
    this.transport =
      this.target.scheme === 'syslog' || this.target.scheme === 'syslog-tls'
        ? new SocketTransport(this.target, binding.credentials, cfg, policy, onConnect)
        : new HttpsTransport(this.target, binding.credentials, cfg, policy, onConnect)
  }

  get key(): string {
    return drainKey(this.binding)
  }

  get waiting(): number {
    return this.items.length - this.head
  }

  enqueue(e: Envelope): void {
    if (!this.target.logs || this.closedFlag.closed) return
    if (this.waiting === 0) this.firstWaitingAt = Date.now()
    this.items.push(e)
    this.bytes += e.payload.length
    if (this.waiting > this.cfg.drainBufferLines || this.bytes > this.cfg.drainBufferBytes) this.overflow()
    if (this.wake) {
      const w = this.wake
      this.wake = undefined
      w()
    }
  }

  private overflow(): void {
    let n = 0
    while (this.waiting > 0 && (this.waiting > this.cfg.drainBufferLines || this.bytes > this.cfg.drainBufferBytes)) {
      this.bytes -= this.items[this.head]!.payload.length
      this.items[this.head++] = undefined as unknown as Envelope
      n++
    }
    this.compact()
    this.lost(n)
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  /** Counts `n` lost lines and reports them to the app's stream within a second. */
  private lost(n: number): void {
    if (n <= 0) return
    this.dropped += n
    this.unreported += n
    this.reportTimer ??= setTimeout(() => this.report(), 1000)
  }

  private report(): void {
    this.reportTimer = undefined
    if (this.unreported === 0) return
    const n = this.unreported
    this.unreported = 0
    this.logger.warn({ drain: this.anonymous, app: this.binding.app.guid, dropped: n }, `Dropped ${n} ${this.target.scheme} logs for ${this.binding.app.guid}'s app drain with url ${this.anonymous}`)
    this.notify(this, drainLossNotice(n, this.binding.app.guid, this.anonymous))
  }

  start(): void {
    this.loop ??= this.run()
  }

  private take(): Envelope[] {
    const batchMode = this.target.scheme === 'https-batch'
    const single = this.target.scheme === 'https'
    const maxBytes = batchMode ? this.cfg.drainBatchBytes : 256 * 1024
    const out: Envelope[] = []
    let size = 0
    while (this.waiting > 0 && size < maxBytes && out.length < (single ? 1 : 4096)) {
      const e = this.items[this.head]!
      this.items[this.head++] = undefined as unknown as Envelope
      this.bytes -= e.payload.length
      size += e.payload.length + 200
      out.push(e)
    }
    this.compact()
    if (this.waiting > 0) this.firstWaitingAt = Date.now()
    return out
  }

  private requeue(batch: Envelope[]): void {
    this.items = batch.concat(this.items.slice(this.head))
    this.head = 0
    for (const e of batch) this.bytes += e.payload.length
    if (this.waiting > this.cfg.drainBufferLines || this.bytes > this.cfg.drainBufferBytes) this.overflow()
  }

  private async run(): Promise<void> {
    while (!this.closedFlag.closed) {
      if (this.waiting === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve))
        continue
      }
      if (this.target.scheme === 'https-batch') {
        const pendingBytes = this.bytes + this.waiting * 200
        const age = Date.now() - this.firstWaitingAt
        if (pendingBytes < this.cfg.drainBatchBytes && age < this.cfg.drainBatchMs) {
          await sleep(this.cfg.drainBatchMs - age, this.closedFlag)
          continue
        }
      }
      const batch = this.take()
      this.inflight = batch
      try {
        await this.transport.send(batch)
        this.sent += batch.length
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        this.lastError = obfuscateUrlCredentials(msg)
        if (err instanceof PermanentFailure) {
          this.lost(batch.length)
        } else {
          this.requeue(batch)
          this.transport.close()
          this.failures++
          if (!this.reportedFailure) {
            this.reportedFailure = true
            const text = err instanceof Refused ? `Syslog drain ${this.anonymous} was ${msg}` : `Failed to connect to ${this.anonymous}`
            this.notify(this, text)
          }
          const backoff = Math.min(this.cfg.drainMaxBackoffMs, 50 * 2 ** Math.min(this.failures - 1, 20))
          await sleep(err instanceof Refused ? this.cfg.drainMaxBackoffMs : backoff, this.closedFlag)
        }
      } finally {
        this.inflight = []
      }
    }
  }

  /** Gives the writer up to `graceMs` to empty the buffer, then stops it. */
  async close(graceMs = 0): Promise<void> {
    const deadline = Date.now() + graceMs
    while (graceMs > 0 && (this.waiting > 0 || this.inflight.length) && Date.now() < deadline && this.transport.connected) await sleep(20)
    this.closedFlag.closed = true
    this.wake?.()
    clearTimeout(this.reportTimer)
    this.transport.close()
  }

  stats(): DrainStats {
    return {
      binding_guid: this.binding.bindingGuid,
      service_instance_guid: this.binding.serviceInstanceGuid,
      app_guid: this.binding.app.guid,
      url: this.anonymous,
      scheme: this.target.scheme,
      connected: this.transport.connected,
      sent: this.sent,
      dropped: this.dropped,
      buffered_lines: this.waiting + this.inflight.length,
      buffered_bytes: this.bytes,
      last_error: this.lastError,
    }
  }
}

/** Same URL and credentials: the same drain (its buffer survives a reload). */
function drainKey(b: DrainBinding): string {
  return `${b.url}\u0000${JSON.stringify(b.credentials)}`
}

export class DrainManager {
  private byApp = new Map<string, Drain[]>()
  private byBinding = new Map<string, Drain>()
  private reloading: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly db: Db,
    private readonly cfg: LogConfig,
    readonly policy: DrainPolicy,
    private readonly notify: DrainNotify,
    private readonly logger: Logger,
  ) {}

  /**
   * Re-reads the bindings with drain URLs; unchanged drains keep their buffers. Called after every
   * binding change here, and every 30 s for changes made elsewhere (an app or space deleted).
   */
  reload(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => void this.reload(), 30_000)
      this.timer.unref()
    }
    this.reloading = this.reloading.then(() => this.doReload()).catch((err) => this.logger.error({ err }, 'could not load syslog drains'))
    return this.reloading
  }

  private async doReload(): Promise<void> {
    const rows = await this.db
      .selectFrom('service_bindings as b')
      .innerJoin('service_instances as si', 'si.guid', 'b.service_instance_guid')
      .innerJoin('apps as a', 'a.guid', 'b.app_guid')
      .innerJoin('spaces as s', 's.guid', 'a.space_guid')
      .innerJoin('organizations as o', 'o.guid', 's.organization_guid')
      .select(['b.guid as binding_guid', 'si.guid as si_guid', 'si.syslog_drain_url as url', 'si.credentials', 'a.guid as app_guid', 'a.name as app_name', 's.guid as space_guid', 's.name as space_name', 'o.guid as org_guid', 'o.name as org_name'])
      .where('si.syslog_drain_url', 'is not', null)
      .where('si.syslog_drain_url', '!=', '')
      .execute()
    const next = new Map<string, Drain>()
    for (const r of rows) {
      if (!parseDrainUrl(r.url!)) continue
      const binding: DrainBinding = {
        bindingGuid: r.binding_guid,
        serviceInstanceGuid: r.si_guid,
        url: r.url!,
        credentials: r.credentials ?? {},
        app: { guid: r.app_guid, name: r.app_name, spaceGuid: r.space_guid, spaceName: r.space_name, orgGuid: r.org_guid, orgName: r.org_name },
      }
      const existing = this.byBinding.get(r.binding_guid)
      if (existing && existing.key === drainKey(binding)) next.set(r.binding_guid, existing)
      else next.set(r.binding_guid, new Drain(binding, this.cfg, this.policy, this.notify, this.logger))
    }
    for (const [guid, d] of this.byBinding) if (next.get(guid) !== d) void d.close()
    this.byBinding = next
    const byApp = new Map<string, Drain[]>()
    for (const d of next.values()) {
      d.start()
      const list = byApp.get(d.binding.app.guid) ?? []
      list.push(d)
      byApp.set(d.binding.app.guid, list)
    }
    this.byApp = byApp
  }

  hasDrains(appGuid: string): boolean {
    return this.byApp.has(appGuid)
  }

  publish(e: Envelope, except?: Drain): void {
    const ds = this.byApp.get(e.sourceId)
    if (!ds) return
    for (const d of ds) if (d !== except) d.enqueue(e)
  }

  stats(): DrainStats[] {
    return [...this.byBinding.values()].map((d) => d.stats())
  }

  async close(graceMs: number): Promise<void> {
    clearInterval(this.timer)
    await Promise.all([...this.byBinding.values()].map((d) => d.close(graceMs)))
    this.byBinding.clear()
    this.byApp.clear()
  }
}

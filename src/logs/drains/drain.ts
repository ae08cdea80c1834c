// One drain: a bounded buffer of envelopes and the writer loop that sends them through its
// scheme's transport, with back-off, loss counting and the agent's notices in the app's stream.
import type { Logger } from 'pino'
import { obfuscateUrlCredentials } from '../../audit/redaction.ts'
import type { LogConfig } from '../config.ts'
import { drainLossNotice, type Envelope } from '../envelope.ts'
import type { DrainPolicy } from './policy.ts'
import { SCHEMES, batchLimits, type SchemeSpec } from './schemes.ts'
import { PermanentFailure, Refused, type Transport } from './transport.ts'
import { anonymousUrl, parseDrainUrl, type ParsedDrainUrl } from './url.ts'

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

const sleep = (ms: number, signal?: { closed: boolean }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    if (signal?.closed) {
      clearTimeout(t)
      resolve()
    }
  })

/** Same URL and credentials: the same drain (its buffer survives a reload). */
export function drainKey(b: DrainBinding): string {
  return `${b.url}\u0000${JSON.stringify(b.credentials)}`
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
  private readonly scheme: SchemeSpec
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
    this.scheme = SCHEMES[this.target.scheme]!
    this.transport = new this.scheme.transport({ target: this.target, tls: this.scheme.tls, creds: binding.credentials, cfg, policy, onConnect })
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
    const limit = batchLimits(this.scheme.batching, this.cfg)
    const out: Envelope[] = []
    let size = 0
    while (this.waiting > 0 && size < limit.bytes && out.length < limit.lines) {
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
      if (this.scheme.batching === 'batch') {
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

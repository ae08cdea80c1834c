// Ships every audit event, in ledger log order, to a syslog receiver as one RFC 5424 message
// (CC's `log_audit_events`, made reliable): the log position delivered is kept in export_cursors
// and advanced only after the receiver confirmed a batch (syslog.ts), so a server restart or a
// receiver outage loses nothing; a batch whose confirmation was lost is sent again
// (at-least-once; docs/export.md).
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import type { AuditSyslogConfig } from './config.ts'
import { leavesAfter, type ExportRow } from './events.ts'
import type { Leadership } from '../cluster/leader.ts'
import { octetCounted } from '../syslog/framing.ts'
import { syslogMessage } from './present.ts'
import { deliverBatch } from './syslog.ts'
import type { LedgerWatch } from './watch.ts'
import { retryUntilLands } from '../store/retry.ts'

export const SYSLOG_CURSOR = 'syslog'

export interface ForwarderOptions {
  /** Most events per batch (one connection each). */
  readonly batchEvents: number
  /** Most bytes per batch; a single larger event still goes alone. */
  readonly batchBytes: number
  /** Reconnect back-off: first delay, doubled per failure up to the maximum. */
  readonly backoffMinMs: number
  readonly backoffMaxMs: number
  /** Plain TCP: wait this long after connecting before writing (see syslog.ts). */
  readonly settleMs: number
  /** Per-batch deadline for connect + write + confirmation: base + per MiB. */
  readonly timeoutMs: number
}

export const FORWARDER_DEFAULTS: ForwarderOptions = {
  batchEvents: 500,
  batchBytes: 1024 * 1024,
  backoffMinMs: 250,
  backoffMaxMs: 10_000,
  settleMs: 20,
  timeoutMs: 15_000,
}

export interface ForwarderStatus {
  readonly enabled: true
  readonly url: string
  readonly leader: boolean
  /** The log position the receiver has confirmed every event up to (persisted). */
  readonly cursor: number | null
  readonly delivered_since_start: number
  readonly batches_since_start: number
  readonly last_delivery_at: string | null
  readonly failures_since_start: number
  readonly last_error: string | null
  readonly last_error_at: string | null
  readonly retry_in_ms: number | null
  /** Events retention pruned before they could be forwarded. */
  readonly skipped_since_start: number
}

export async function readCursor(db: Db, name: string): Promise<number> {
  await sql`insert into export_cursors (name, seq, position, updated_at) values (${name}, 0, 0, now()) on conflict (name) do nothing`.execute(db)
  const r = await sql<{ position: number | string }>`select position from export_cursors where name = ${name}`.execute(db)
  return Number(r.rows[0]?.position ?? 0)
}

/** `seq` keeps the largest event seq delivered, for an operator reading the table; `position` is the cursor. */
async function saveCursor(db: Db, name: string, position: number, seq: number): Promise<void> {
  await sql`update export_cursors set position = ${position}, seq = greatest(seq, ${seq}), updated_at = now() where name = ${name} and position < ${position}`.execute(db)
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

export class SyslogForwarder {
  /** Aborted by stop(): ends waits and back-off sleeps at once. */
  private readonly stopping = new AbortController()
  /** Aborted after stop()'s grace period: abandons a batch in flight. */
  private readonly abort = new AbortController()
  private loop: Promise<void> | undefined
  private cursor: number | null = null
  private term = 0
  private leader = false
  private delivered = 0
  private batches = 0
  private failures = 0
  private skipped = 0
  private lastDelivery: Date | null = null
  private lastError: { message: string; at: Date } | null = null
  private retryAt: number | null = null

  constructor(
    private readonly db: Db,
    private readonly watch: LedgerWatch,
    private readonly logger: Logger,
    private readonly config: AuditSyslogConfig,
    private readonly leadership: Leadership,
    private readonly opts: ForwarderOptions = FORWARDER_DEFAULTS,
  ) {}

  start(): void {
    this.loop ??= this.run()
  }

  /** Stops after the batch in flight (or aborts it after `graceMs`; it is then sent again later). */
  async stop(graceMs = 3000): Promise<void> {
    const loop = this.loop
    if (!loop) return
    this.stopping.abort()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([loop, new Promise((r) => (timer = setTimeout(r, graceMs)))])
    clearTimeout(timer)
    this.abort.abort()
    await loop
    await this.leadership.close()
  }

  status(): ForwarderStatus {
    return {
      enabled: true,
      url: this.config.url,
      leader: this.leader,
      cursor: this.cursor,
      delivered_since_start: this.delivered,
      batches_since_start: this.batches,
      last_delivery_at: this.lastDelivery?.toISOString() ?? null,
      failures_since_start: this.failures,
      last_error: this.lastError?.message ?? null,
      last_error_at: this.lastError?.at.toISOString() ?? null,
      retry_in_ms: this.retryAt === null ? null : Math.max(0, this.retryAt - Date.now()),
      skipped_since_start: this.skipped,
    }
  }

  /** The longest prefix of `rows` that fits a batch; always at least one row. */
  private frame(rows: readonly ExportRow[]): { payload: Buffer; count: number } {
    const frames: Buffer[] = []
    let bytes = 0
    for (const r of rows) {
      const f = octetCounted(syslogMessage(r, this.config.hostname))
      if (frames.length && bytes + f.length > this.opts.batchBytes) break
      frames.push(f)
      bytes += f.length
    }
    return { payload: Buffer.concat(frames, bytes), count: frames.length }
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal
    let backoff = this.opts.backoffMinMs
    let failing = false
    while (!signal.aborted) {
      try {
        const term = await this.leadership.ensure()
        this.leader = term > 0
        if (!term) {
          await sleep(5000, signal)
          continue
        }
        if (term !== this.term || this.cursor === null) {
          // (Re)gained leadership: another process may have moved the cursor meanwhile.
          this.cursor = await readCursor(this.db, SYSLOG_CURSOR)
          this.term = term
        }
        const cursor = this.cursor
        const leaves = await leavesAfter(this.db, cursor, this.opts.batchEvents)
        if (!leaves.length) {
          await this.watch.waitBeyond(cursor, 5000, signal)
          continue
        }
        const rows = leaves.flatMap((l) => (l.event ? [l.event] : []))
        // The batch's events, or all of them when they fit; leaves that are not events move the cursor only.
        const { payload, count } = rows.length ? this.frame(rows) : { payload: Buffer.alloc(0), count: 0 }
        const last = count === rows.length ? leaves.at(-1)!.position : rows[count - 1]!.position
        const pruned = leaves.filter((l) => l.pruned && l.position <= last)
        if (pruned.length) {
          this.skipped += pruned.length
          this.logger.error(
            { from: pruned[0]!.position, to: pruned.at(-1)!.position },
            `audit syslog forwarder: ${pruned.length} events were pruned before they could be forwarded (they are in the ledger archives)`,
          )
        }
        if (count) {
          await deliverBatch(this.config, payload, {
            timeoutMs: this.opts.timeoutMs + Math.ceil(payload.length / (1024 * 1024)) * 1000,
            settleMs: this.opts.settleMs,
            signal: this.abort.signal,
          })
        }
        const maxSeq = Math.max(0, ...rows.slice(0, count).map((r) => r.seq))
        // Delivered: the cursor must land, or the batch would be shipped again.
        await retryUntilLands('the audit syslog cursor', () => saveCursor(this.db, SYSLOG_CURSOR, last, maxSeq), { logger: this.logger, signal })
        this.cursor = last
        this.delivered += count
        if (count) this.batches++
        this.lastDelivery = new Date()
        this.retryAt = null
        backoff = this.opts.backoffMinMs
        if (failing) this.logger.warn({ url: this.config.url, cursor: last }, 'audit syslog forwarder: delivering again')
        failing = false
      } catch (err) {
        if (signal.aborted) break
        this.failures++
        this.lastError = { message: (err as Error).message ?? String(err), at: new Date() }
        // One warning per outage, not one per retry.
        if (!failing) this.logger.warn({ err, url: this.config.url, cursor: this.cursor }, 'audit syslog forwarder: delivery failed; retrying with back-off')
        failing = true
        this.retryAt = Date.now() + backoff
        await sleep(backoff, signal)
        backoff = Math.min(backoff * 2, this.opts.backoffMaxMs)
      }
    }
  }
}

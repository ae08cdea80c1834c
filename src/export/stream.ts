// GET /ledger/v1/events/stream: audit events as NDJSON in ledger log order, then live (docs/export.md).
import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { EventScope } from '../authz/permissions.ts'
import type { Db } from '../store/store.ts'
import { leavesAfter, logSize, scopedEventsBetween, type ExportLeaf, type ExportRow } from './events.ts'
import { eventJson } from './present.ts'
import type { LedgerWatch } from './watch.ts'
import { checkpointAtOrBelow, cosignedNote } from '../ledger/log-store.ts'

/** Rows per query while catching up. */
export const STREAM_BATCH = 1000
/** A scoped stream reads at most this many log positions per query, visible or not. */
const SCOPED_WINDOW = 10_000
/** How often a follower with checkpoints=true looks for the checkpoint that covers what it sent. */
const CHECKPOINT_POLL_MS = 500

export interface StreamRequest {
  /** The consumer's cursor: the last position it has; the stream starts at the next visible event. */
  readonly after: number
  /** Keep following new events (default) or end once caught up. */
  readonly follow: boolean
  /** Also write each newer signed log checkpoint the stream has passed, as a `{"checkpoint": …}` line. */
  readonly checkpoints: boolean
  /** A blank line is written after this long without output. */
  readonly heartbeatMs: number
  readonly baseUrl: string
  /** Global readers get `{ all: true }`; others are re-read on every refill, so role changes apply. */
  readonly scope: () => Promise<EventScope>
  /** The stream ends when the caller's token expires (ms since the epoch). */
  readonly expiresAt: number | undefined
}

class Session {
  private readonly abort = new AbortController()
  private stopped = false
  private lastWrite = Date.now()
  private lastCheckpoint = 0
  readonly done: Promise<void>

  constructor(
    private readonly db: Db,
    private readonly watch: LedgerWatch,
    private readonly logger: Logger,
    private readonly raw: ServerResponse,
    private readonly req: StreamRequest,
  ) {
    raw.on('close', () => this.stop())
    this.done = this.run()
  }

  stop(): void {
    this.stopped = true
    this.abort.abort()
  }

  /** Hard stop for a consumer that does not read (used at shutdown after a grace period). */
  destroy(): void {
    this.stop()
    this.raw.destroy()
  }

  private async write(chunk: string): Promise<void> {
    if (this.raw.destroyed || this.raw.writableEnded) return this.stop()
    this.lastWrite = Date.now()
    if (this.raw.write(chunk)) return
    await new Promise<void>((resolve) => {
      const done = () => {
        this.raw.off('drain', done)
        this.raw.off('close', done)
        this.abort.signal.removeEventListener('abort', done)
        resolve()
      }
      this.raw.on('drain', done)
      this.raw.on('close', done)
      this.abort.signal.addEventListener('abort', done)
    })
  }

  private async writeRows(rows: readonly ExportRow[]): Promise<void> {
    let chunk = ''
    for (const r of rows) chunk += `${eventJson(r, this.req.baseUrl)}\n`
    await this.write(chunk)
  }

  /**
   * After the events up to `cursor`: the newest checkpoint they are covered by, when it is newer
   * than the last one written. A SIEM that keeps these holds signed tree heads for the events it
   * holds, and can ask for their inclusion proofs later (docs/export.md).
   */
  private async writeCheckpoint(cursor: number): Promise<void> {
    const cp = await checkpointAtOrBelow(this.db, cursor)
    if (!cp || cp.size <= this.lastCheckpoint) return
    this.lastCheckpoint = cp.size
    await this.write(`${JSON.stringify({ checkpoint: { size: cp.size, root: cp.root.toString('base64'), note: cosignedNote(cp) } })}\n`)
  }

  /** Reads ahead; a read abandoned because the consumer left must not become an unhandled rejection. */
  private readAhead(after: number): Promise<ExportLeaf[]> {
    const p = leavesAfter(this.db, after, STREAM_BATCH)
    p.catch(() => undefined)
    return p
  }

  /** Catch-up for global readers: consecutive leaves, next batch read while this one is written. */
  private async refillAll(cursor: number): Promise<{ cursor: number; end?: string }> {
    let next = this.readAhead(cursor)
    while (!this.stopped) {
      const leaves = await next
      if (!leaves.length) return { cursor }
      const last = leaves[leaves.length - 1]!
      // Leaves have no holes; an event missing from its leaf was pruned under the reader, and
      // skipping it silently would break the gap-free promise.
      const pruned = leaves.find((l) => l.pruned)
      if (leaves[0]!.position !== cursor + 1 || last.position !== cursor + leaves.length || pruned) {
        return { cursor, end: `events after position ${cursor} are no longer held (pruned while streaming)` }
      }
      if (leaves.length === STREAM_BATCH) next = this.readAhead(last.position)
      await this.writeRows(leaves.flatMap((l) => (l.event ? [l.event] : [])))
      cursor = last.position
      if (leaves.length < STREAM_BATCH) return { cursor }
    }
    return { cursor }
  }

  /** Catch-up for scoped readers: windows of positions up to the log's size, only visible rows written. */
  private async refillScoped(cursor: number, scope: EventScope): Promise<number> {
    const head = await logSize(this.db)
    while (!this.stopped && cursor < head) {
      const upTo = Math.min(head, cursor + SCOPED_WINDOW)
      const rows = await scopedEventsBetween(this.db, cursor, upTo, scope, STREAM_BATCH)
      if (rows.length) await this.writeRows(rows)
      cursor = rows.length === STREAM_BATCH ? rows[rows.length - 1]!.position : upTo
    }
    return cursor
  }

  private async run(): Promise<void> {
    const { req } = this
    let cursor = req.after
    try {
      while (!this.stopped) {
        const scope = await req.scope()
        if (scope.all) {
          const r = await this.refillAll(cursor)
          cursor = r.cursor
          if (r.end) {
            this.logger.warn({ after: cursor }, `audit export stream: ${r.end}`)
            break
          }
        } else {
          cursor = await this.refillScoped(cursor, scope)
        }
        if (req.checkpoints) await this.writeCheckpoint(cursor)
        if (!req.follow || this.stopped) break
        for (;;) {
          const now = Date.now()
          if (req.expiresAt !== undefined && now >= req.expiresAt) return this.stop()
          const heartbeatAt = this.lastWrite + req.heartbeatMs
          const until = Math.min(heartbeatAt, req.expiresAt ?? Infinity)
          // Checkpoints are signed after the leaves they cover: look for the one still due now and then.
          const checkpointDue = req.checkpoints && this.lastCheckpoint < cursor
          const head = await this.watch.waitBeyond(cursor, checkpointDue ? Math.min(until - now, CHECKPOINT_POLL_MS) : until - now, this.abort.signal)
          if (this.stopped) break
          if (head !== undefined) break
          if (checkpointDue) await this.writeCheckpoint(cursor)
          if (Date.now() >= heartbeatAt) await this.write('\n')
        }
      }
    } catch (err) {
      this.logger.error({ err, cursor }, 'audit export stream failed')
    } finally {
      this.stopped = true
      if (!this.raw.writableEnded && !this.raw.destroyed) this.raw.end()
    }
  }
}

/** The open streams of this process, so shutdown can end them. */
export class EventStreams {
  private readonly sessions = new Set<Session>()
  private closed = false

  constructor(
    private readonly db: Db,
    private readonly watch: LedgerWatch,
    private readonly logger: Logger,
  ) {}

  /** Writes the response head and starts streaming; the caller has validated the request. */
  open(raw: ServerResponse, headers: Record<string, string>, req: StreamRequest): void {
    raw.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar proxies would otherwise buffer the live part of the stream.
      'x-accel-buffering': 'no',
      ...headers,
    })
    raw.flushHeaders()
    // A request that passed validation while the server began to stop: end it at once, which
    // tells the consumer to reconnect with its cursor (as for every other stream at shutdown).
    if (this.closed) return void raw.end()
    // HEAD (fastify answers it with the GET handler) gets the headers only.
    if (raw.req.method === 'HEAD') return void raw.end()
    const s = new Session(this.db, this.watch, this.logger, raw, req)
    this.sessions.add(s)
    void s.done.finally(() => this.sessions.delete(s))
  }

  get size(): number {
    return this.sessions.size
  }

  /** Ends every stream (consumers resume from their cursor); gives writers `graceMs` to finish. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true
    const all = [...this.sessions]
    for (const s of all) s.stop()
    const finished = Promise.all(all.map((s) => s.done))
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ])
    clearTimeout(timer)
    if (late) for (const s of all) s.destroy()
    await finished
  }
}

// Tells exporters when the ledger log grows. One poller per process reads the log's size (a
// one-row primary-key lookup) while anyone is waiting, so N followers cost one query per tick,
// and it sees events written by other server processes sharing the database as well. An
// integrator pass in this process that appended leaves nudges it to look at once instead of at
// the next tick.
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { logSize } from './events.ts'

interface Waiter {
  readonly beyond: number
  readonly resolve: (head: number | undefined) => void
}

export class LedgerWatch {
  private head = 0
  private readonly waiters = new Set<Waiter>()
  private timer: NodeJS.Timeout | undefined
  private polling = false
  private again = false
  private closed = false

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    readonly intervalMs = 200,
  ) {}

  /**
   * Resolves with the log's size once it is beyond `position`, or with undefined after `timeoutMs`
   * or when `signal` aborts or the watch closes; never rejects.
   */
  waitBeyond(position: number, timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
    if (this.closed || signal?.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      let timeout: NodeJS.Timeout | undefined = undefined
      const done = (head: number | undefined) => {
        this.waiters.delete(waiter)
        clearTimeout(timeout)
        signal?.removeEventListener('abort', onAbort)
        resolve(head)
      }
      const onAbort = () => done(undefined)
      const waiter: Waiter = { beyond: position, resolve: done }
      timeout = setTimeout(() => done(undefined), Math.max(0, timeoutMs))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.add(waiter)
      this.schedule()
    })
  }

  /** Leaves may have been appended just now (an integrator pass in this process): look at once. */
  nudge(): void {
    if (this.closed || !this.waiters.size) return
    if (this.polling) {
      this.again = true
      return
    }
    clearTimeout(this.timer)
    this.timer = undefined
    void this.poll()
  }

  private schedule(): void {
    if (this.timer || this.polling || this.closed || !this.waiters.size) return
    this.timer = setTimeout(() => void this.poll(), this.intervalMs)
  }

  private async poll(): Promise<void> {
    this.timer = undefined
    this.polling = true
    try {
      this.head = await logSize(this.db)
      for (const w of [...this.waiters]) if (this.head > w.beyond) w.resolve(this.head)
    } catch (err) {
      if (!this.closed) this.logger.warn({ err }, 'audit export: reading the ledger log size failed')
    } finally {
      this.polling = false
      if (this.again) {
        this.again = false
        void this.poll()
      } else {
        this.schedule()
      }
    }
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    for (const w of [...this.waiters]) w.resolve(undefined)
  }
}

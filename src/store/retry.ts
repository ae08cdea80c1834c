import type { Logger } from 'pino'
import { isDatabaseUnavailable } from './outage.ts'

export interface RetryOptions {
  readonly logger: Logger
  /** Stops retrying (the last error is thrown) once aborted, so shutdown does not wait for the database forever. */
  readonly signal?: AbortSignal
  /** First pause in ms; doubles up to `maxDelayMs`. */
  readonly initialDelayMs?: number
  readonly maxDelayMs?: number
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/**
 * Runs a background write until it lands: while the database is unreachable (isDatabaseUnavailable)
 * it waits and tries again; any other error is thrown at once. `write` must be idempotent — a
 * commit whose answer was lost may have landed, and it runs again — which every caller gets by
 * re-reading the row it moves (a terminal task, a COMPLETE job, a cursor at or past its value).
 */
export async function retryUntilLands<T>(what: string, write: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.initialDelayMs ?? 100
  const max = opts.maxDelayMs ?? 5000
  let failures = 0
  for (;;) {
    try {
      const result = await write()
      if (failures) opts.logger.warn({ what, attempts: failures + 1 }, 'database back: a delayed write landed')
      return result
    } catch (err) {
      if (!isDatabaseUnavailable(err) || opts.signal?.aborted) throw err
      if (failures++ === 0) opts.logger.warn({ what, err: (err as Error).message }, 'database unavailable: will retry the write until it lands')
      await sleep(delay, opts.signal)
      delay = Math.min(max, delay * 2)
    }
  }
}

// One answer to "is the database away?", for the HTTP layer (503 instead of 500) and for the
// background writers that retry until the database is back (retry.ts).

/** Node socket errors that mean the server could not be reached or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])

/**
 * SQLSTATEs of a server going away or not yet accepting work: class 08 (connection exception),
 * admin/crash shutdown, "the database system is starting up / shutting down", too many clients.
 */
function isOutageSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300'
}

/** node-postgres and pg-pool report a lost or unobtainable connection with these messages and no code. */
const MESSAGES = [
  /^Connection terminated/,
  /not queryable/,
  /timeout exceeded when trying to connect/,
  /Client was closed and is not queryable/,
  /Cannot use a pool after calling end/,
]

/** A prepared statement met a schema change (a newer server migrated): its transaction had no effect and a retry runs it unprepared (prepared-statements.ts). */
const isStalePlan = (code: string, message: unknown) => code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type')

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || isOutageSqlState(e.code) || isStalePlan(e.code, e.message))) return true
    if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e!.message as string))) return true
    // net's happy-eyeballs connect reports an AggregateError of per-address failures.
    if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x))) return true
    e = e.cause as typeof e
  }
  return false
}

/** Seconds a client is told to wait before retrying a request refused during an outage. */
export const RETRY_AFTER_SECONDS = 2

// Only one server process per database forwards audit events, or every event would be shipped
// once per process. On PostgreSQL the forwarder holds a session advisory lock on a connection of
// its own: PostgreSQL releases it when that process dies or its connection drops, so a
// restarted or standby server takes over at once, with no lease to wait out. The embedded store
// can only be opened by one process, which is therefore always the leader.
import type { Logger } from 'pino'
import pg from 'pg'

export interface Leadership {
  /**
   * Tries to be (or stay) the forwarder; returns a term number that changes whenever leadership
   * was lost and won again (the cursor must then be re-read), or 0 when another process leads.
   */
  ensure(): Promise<number>
  close(): Promise<void>
}

export const soleLeader = (): Leadership => ({ ensure: async () => 1, close: async () => undefined })

/** pg_try_advisory_lock(int, int) keys; the two-int form cannot collide with single-bigint locks. */
export const LEADER_LOCKS = { auditForwarder: 6, ledgerIntegrator: 7 } as const

export function advisoryLockLeader(databaseUrl: string, logger: Logger, lockId: number = LEADER_LOCKS.auditForwarder, label = 'audit syslog forwarder'): Leadership {
  const LOCK = [424242, lockId] as const
  let client: pg.Client | undefined
  let held = false
  let term = 0
  const drop = () => {
    if (held) logger.warn(`${label}: lost its leadership connection; will retry`)
    held = false
    const c = client
    client = undefined
    c?.end().catch(() => undefined)
  }
  return {
    async ensure() {
      if (held && client) return term
      try {
        if (!client) {
          const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: `cf-ledger ${label}` })
          c.on('error', drop)
          c.on('end', drop)
          await c.connect()
          client = c
        }
        const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [...LOCK])
        held = r.rows[0]?.ok === true
        if (held) term++
        return held ? term : 0
      } catch (err) {
        logger.warn({ err }, `${label}: cannot reach the database for its leadership lock`)
        drop()
        return 0
      }
    },
    async close() {
      held = false
      const c = client
      client = undefined
      // Closing the session releases the lock.
      await c?.end().catch(() => undefined)
    },
  }
}

// One elected server per role (pruner, checkpointer, forwarder, integrator, …) among the servers
// sharing a database. A role is a row in `leases`: its holder renews it in the background, and
// another server takes it over once it has expired (at once after a clean `close`, or when the
// holder was this node's previous instance). The term
// grows on every change of holder, so it doubles as a fencing token for the leader's writes.
// The embedded store is opened by one process only, which therefore always leads.
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { lapsed, leaseUntil, released, Vantage } from './lease.ts'

export interface Leadership {
  /**
   * Tries to be (or stay) the leader; returns the term (> 0) while leading, a number that changes
   * whenever leadership was lost and won again, or 0 when another server leads.
   */
  ensure(): Promise<number>
  close(): Promise<void>
}

export const soleLeader = (): Leadership => ({ ensure: async () => 1, close: async () => undefined })

export interface LeaseLeaderOptions {
  readonly db: Db
  readonly role: string
  /** This server instance (see src/cluster/config.ts). */
  readonly holder: string
  readonly leaseMs: number
  readonly logger: Logger
}

export function leaseLeader(o: LeaseLeaderOptions): Leadership {
  let term = 0
  let closed = false
  let renewTimer: NodeJS.Timeout | undefined
  let inFlight: Promise<number> | undefined
  /** When the last attempt that held the lease began (performance.now()). */
  let heldSince = 0
  const vantage = new Vantage(o.leaseMs)

  async function attempt(): Promise<number> {
    const began = performance.now()
    try {
      const r = await vantage.look((judge) => sql<{ term: number }>`
        insert into leases (role, holder, term, expires_at) values (${o.role}, ${o.holder}, 1, ${leaseUntil(o.leaseMs)})
        on conflict (role) do update set
          term = case when leases.holder = excluded.holder then leases.term else leases.term + 1 end,
          holder = excluded.holder, expires_at = excluded.expires_at
        -- A holder of the same node but another instance is this server's dead predecessor.
        where leases.holder = excluded.holder or ${lapsed('leases.expires_at', o.leaseMs, judge)}
          or split_part(leases.holder, ':', 1) = split_part(excluded.holder, ':', 1)
        returning term`.execute(o.db))
      const won = r.rows[0]?.term ?? 0
      if (term && won !== term) o.logger.warn({ role: o.role, term }, 'lost the leadership lease')
      term = closed ? 0 : Number(won)
      if (term) heldSince = began
    } catch (err) {
      o.logger.warn({ err, role: o.role }, 'cannot reach the database for a leadership lease')
      term = 0
    }
    if (term && !renewTimer && !closed) {
      renewTimer = setInterval(() => void renew(), Math.max(50, Math.floor(o.leaseMs / 3)))
      renewTimer.unref()
    } else if (!term && renewTimer) {
      clearInterval(renewTimer)
      renewTimer = undefined
    }
    return term
  }

  function renew(): Promise<number> {
    inFlight ??= attempt().finally(() => (inFlight = undefined))
    return inFlight
  }

  function ensure(): Promise<number> {
    if (closed) return Promise.resolve(0)
    // Renewed less than a quarter lease ago: still ours, since nobody takes a lease before it has
    // lapsed. So a role that asks ten times a second (the integrator) writes the row only when due.
    if (term && performance.now() - heldSince < o.leaseMs / 4) return Promise.resolve(term)
    return renew()
  }

  return {
    ensure,
    async close() {
      closed = true
      clearInterval(renewTimer)
      await inFlight
      if (!term) return
      term = 0
      // Hand over at once instead of making the others wait out the lease; the row stays, so the
      // next holder's term is still higher (a fencing token never goes back).
      await sql`update leases set expires_at = ${released()} where role = ${o.role} and holder = ${o.holder}`
        .execute(o.db)
        .catch(() => undefined)
    },
  }
}

/** The factory every background role uses: database leases on PostgreSQL, always-leader when embedded. */
export type LeadershipFactory = (role: string) => Leadership

export function leadershipFactory(kind: 'postgres' | 'embedded', opts: Omit<LeaseLeaderOptions, 'role'>): LeadershipFactory {
  return kind === 'embedded' ? () => soleLeader() : (role) => leaseLeader({ ...opts, role })
}

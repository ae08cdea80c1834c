// The SQL of leases (tasks, jobs, elected roles), in database time so the servers' clocks do not
// matter. A lease counts from its last renewal or from the database's own start, whichever is
// later: while PostgreSQL is down or restarting nobody can renew, so an outage longer than the
// lease must not make every live server look dead to whichever of them reconnects first.
import { sql, type RawBuilder } from 'kysely'

const interval = (ms: number) => sql`${`${ms} milliseconds`}::interval`

/** The expiry of a lease taken or renewed now. */
export const leaseUntil = (ms: number): RawBuilder<Date> => sql<Date>`now() + ${interval(ms)}`

/** The expiry of a lease given up on purpose (a clean stop): the next taker need not wait. */
export const released = (): RawBuilder<Date> => sql<Date>`'-infinity'::timestamptz`

/** True when the lease in `expiresAt` (a column) was released, or ran out while the database was up for a whole lease. */
export const lapsed = (expiresAt: string, ms: number): RawBuilder<boolean> => {
  const at = sql.ref(expiresAt)
  return sql<boolean>`(${at} = ${released()} or greatest(${at}, pg_postmaster_start_time() + ${interval(ms)}) < now())`
}

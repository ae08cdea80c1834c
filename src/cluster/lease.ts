// The SQL of leases (tasks, jobs, elected roles), in database time so the servers' clocks do not
// matter, and the one rule for when a server may take another's lease for abandoned.
//
// Nobody can renew a lease while PostgreSQL is down, restarting or cut off, so a lease that ran
// out says nothing about its holder until the holder has had a whole lease of reachable database
// to renew it in. Two guards give it that:
// - a lease counts from its last renewal or from the database's own start, whichever is later;
// - a server judges leases lapsed only once its own reads have reached the database without a
//   break for a whole lease (`Vantage`). This also covers the part of a start that
//   pg_postmaster_start_time() does not: crash recovery can keep PostgreSQL from accepting
//   connections for seconds after that time, on a loaded machine longer than a lease.
// A clean stop's `released` lease is free at once, whoever looks.
import { sql, type RawBuilder } from 'kysely'

const interval = (ms: number) => sql`${`${ms} milliseconds`}::interval`

/** The expiry of a lease taken or renewed now. */
export const leaseUntil = (ms: number): RawBuilder<Date> => sql<Date>`now() + ${interval(ms)}`

/** The expiry of a lease given up on purpose (a clean stop): the next taker need not wait. */
export const released = (): RawBuilder<Date> => sql<Date>`'-infinity'::timestamptz`

/**
 * True when the lease in `expiresAt` (a column) was released, or — only when `judge` (see
 * `Vantage`) — ran out while the database was up for a whole lease.
 */
export const lapsed = (expiresAt: string, ms: number, judge: boolean): RawBuilder<boolean> => {
  const at = sql.ref(expiresAt)
  const ranOut = judge ? sql`greatest(${at}, pg_postmaster_start_time() + ${interval(ms)}) < now()` : sql`false`
  return sql<boolean>`(${at} = ${released()} or ${ranOut})`
}

/**
 * A server's view of the database over time, for judging others' leases: `judge` is true once
 * this vantage's reads have succeeded without a break for a whole lease. A failed read starts the
 * count again. Before that, only what is known without a clock may be taken over (a released
 * lease, this node's previous instance).
 */
export class Vantage {
  private since: number | undefined

  constructor(
    private readonly leaseMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Runs `read` with the current judgement, and counts its success or failure. */
  async look<T>(read: (judge: boolean) => Promise<T>): Promise<T> {
    const at = this.clock()
    const judge = this.since !== undefined && at - this.since >= this.leaseMs
    try {
      const result = await read(judge)
      this.since ??= at
      return result
    } catch (err) {
      this.since = undefined
      throw err
    }
  }
}

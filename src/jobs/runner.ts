import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Actor } from '../auth/principal.ts'
import { lapsed, leaseUntil, Vantage } from '../cluster/lease.ts'
import { ApiError } from '../errors/api-error.ts'
import type { JobRow } from '../store/schema.ts'
import { retryUntilLands } from '../store/retry.ts'
import type { Db } from '../store/store.ts'

/** Registers work to run once the job's transaction has committed. */
export type AfterCommit = (fn: () => Promise<void> | void) => void

/** Does a job's work inside the transaction that also marks it COMPLETE. */
export type JobHandler = (tx: Db, job: JobRow & { actor: Actor }, afterCommit: AfterCommit) => Promise<void>

/** The server instance running jobs and how long its claim on one lasts (docs/cluster.md). */
export interface JobOwner {
  readonly nodeId: string
  readonly id: string
  readonly leaseMs: number
}

/**
 * Runs asynchronous jobs (deletes) as CC's workers do. Jobs are rows first; a job is claimed by
 * one server (owner + lease, renewed while it runs), so a job accepted before a crash is picked up
 * again by a restart of that server or, once its lease ran out, by any other.
 */
export class JobRunner {
  private readonly running = new Set<Promise<void>>()
  private heartbeat: NodeJS.Timeout | undefined
  private readonly vantage: Vantage

  constructor(
    private readonly db: Db,
    private readonly handlers: Readonly<Record<string, JobHandler>>,
    private readonly logger: Logger,
    private readonly owner: JobOwner = { nodeId: 'local', id: 'local:0', leaseMs: 5000 },
  ) {
    this.vantage = new Vantage(owner.leaseMs)
  }

  /** Starts a committed job in the background; `judge`: whether a lapsed lease may be taken (src/cluster/lease.ts). */
  start(guid: string, judge = false): void {
    const p = this.claim(guid, judge)
      .then((mine) => (mine ? this.run(guid) : undefined))
      .catch((err) => this.logger.warn({ err, job: guid }, 'could not claim a job'))
      .finally(() => {
        this.running.delete(p)
        if (!this.running.size) {
          clearInterval(this.heartbeat)
          this.heartbeat = undefined
        }
      })
    this.running.add(p)
    if (!this.heartbeat) {
      // Only while jobs run: an idle server writes nothing.
      this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.owner.leaseMs / 3)))
      this.heartbeat.unref()
    }
  }

  private async renew(): Promise<void> {
    const { id, leaseMs } = this.owner
    // A running job's row is locked by its own transaction, which alone keeps a second server from
    // running it (their claim waits, then finds it COMPLETE); skip those rather than wait on them.
    await sql`update jobs set lease_expires_at = ${leaseUntil(leaseMs)}
      where guid in (select guid from jobs where owner = ${id} and state = 'PROCESSING' for update skip locked)`
      .execute(this.db)
      .catch((err) => this.logger.warn({ err }, 'job lease heartbeat failed'))
  }

  private async claim(guid: string, judge: boolean): Promise<boolean> {
    const { id, nodeId, leaseMs } = this.owner
    const r = await sql`
      update jobs set owner = ${id}, lease_expires_at = ${leaseUntil(leaseMs)}
      where guid = ${guid} and state = 'PROCESSING'
        and (owner is null or owner = ${id} or ${lapsed('lease_expires_at', leaseMs, judge)} or split_part(owner, ':', 1) = ${nodeId})`.execute(this.db)
    return Number(r.numAffectedRows ?? 0) === 1
  }

  /**
   * Jobs nobody live runs: a previous instance of this node, a lapsed lease, or never claimed
   * for a lease's length (the accepting server died before starting it).
   */
  async resumePending(): Promise<number> {
    const { id, nodeId, leaseMs } = this.owner
    return this.vantage.look(async (judge) => {
      const r = await sql<{ guid: string }>`
        select guid from jobs where state = 'PROCESSING' and (
          (owner is null and updated_at < now() - ${`${leaseMs} milliseconds`}::interval)
          or (owner <> ${id} and (${lapsed('lease_expires_at', leaseMs, judge)} or split_part(owner, ':', 1) = ${nodeId})))`.execute(this.db)
      for (const j of r.rows) this.start(j.guid, judge)
      return r.rows.length
    })
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.running])
  }

  private async run(guid: string): Promise<void> {
    let deferred: (() => Promise<void> | void)[] = []
    const land = (what: string, write: () => Promise<void>) => retryUntilLands(`${what} of job ${guid}`, write, { logger: this.logger })
    try {
      // Retried while the database is away: the transaction re-reads the job and does nothing once it is COMPLETE.
      await land('the step', () => this.db.transaction().execute(async (tx) => {
        deferred = []
        const job = await tx.selectFrom('jobs').selectAll().where('guid', '=', guid).forUpdate().executeTakeFirst()
        if (!job || job.state !== 'PROCESSING') return
        const handler = this.handlers[job.operation]
        if (!handler) throw new Error(`no handler for job operation ${job.operation}`)
        await handler(tx, job as JobRow & { actor: Actor }, (fn) => deferred.push(fn))
        await tx.updateTable('jobs').set({ state: 'COMPLETE', updated_at: new Date() }).where('guid', '=', guid).execute()
      }))
      for (const fn of deferred) {
        await Promise.resolve(fn()).catch((err) => this.logger.error({ err, job: guid }, 'after-commit step failed'))
      }
    } catch (err) {
      this.logger.warn({ err, job: guid }, 'job failed')
      const error =
        err instanceof ApiError
          ? { code: err.code, title: err.title, detail: err.detail }
          : { code: 10001, title: 'UnknownError', detail: 'An unknown error occurred.' }
      await land('the failure', async () => {
        await this.db
          .updateTable('jobs')
          .set({ state: 'FAILED', errors: JSON.stringify([error]), updated_at: new Date() })
          .where('guid', '=', guid)
          .where('state', '=', 'PROCESSING')
          .execute()
      })
    }
  }
}

// Recovery of abandoned tasks (docs/cluster.md, "Node loss"): each orphan is re-checked under its
// row lock, then an unlaunched claim goes back to the queue and a task whose process may have
// started fails with CC's "Unable to determine completion status" (never started twice).
import { recordTaskUsage } from '../actions/app-usage-events.ts'
import { recordTaskComplete } from '../actions/events/task.ts'
import type { Db } from '../store/store.ts'
import { findOrphans, lockOrphan, type Orphan } from './claims.ts'
import { CANCELLED, UNKNOWN_COMPLETION } from './failure-reason.ts'

export interface Recovered {
  /** Tasks failed here (their stored output is to be marked interrupted). */
  readonly failed: string[]
  /** Claims given back to the queue. */
  readonly released: number
}

/**
 * One pass over the orphans. `judge`: whether lapsed leases count (src/cluster/lease.ts);
 * `tracked`: claims this instance still runs, skipped whatever their lease says.
 */
export async function recoverOrphans(
  db: Db,
  self: { nodeId: string; id: string },
  leaseMs: number,
  judge: boolean,
  tracked: (o: Orphan) => boolean,
): Promise<Recovered> {
  const failed: string[] = []
  let released = 0
  for (const o of await findOrphans(db, self, leaseMs, judge)) {
    if (tracked(o)) continue
    const outcome = await db.transaction().execute(async (tx) => {
      const task = await lockOrphan(tx, o, self, leaseMs, judge)
      if (!task) return 'gone'
      if (task.state === 'PENDING' && task.launched_at === null) {
        await tx
          .updateTable('tasks')
          .set((eb) => ({ owner: null, lease_expires_at: null, claim_token: eb('claim_token', '+', 1) }))
          .where('guid', '=', task.guid)
          .execute()
        return 'released'
      }
      const neverRan = task.state === 'CANCELING' && task.launched_at === null
      const updated = await tx
        .updateTable('tasks')
        .set((eb) => ({
          state: 'FAILED',
          failure_reason: neverRan ? CANCELLED : UNKNOWN_COMPLETION,
          exit_status: null,
          finished_at: new Date(),
          updated_at: new Date(),
          lease_expires_at: null,
          claim_token: eb('claim_token', '+', 1),
        }))
        .where('guid', '=', task.guid)
        .returningAll()
        .executeTakeFirstOrThrow()
      if (task.started_at !== null) await recordTaskUsage(tx, updated, 'TASK_STOPPED', task.state)
      await recordTaskComplete(tx, updated, undefined)
      return 'failed'
    })
    if (outcome === 'failed') failed.push(o.guid)
    if (outcome === 'released') released++
  }
  return { failed, released }
}

// The SQL of task claiming (docs/cluster.md). A claim sets the owner (server instance), a lease
// and bumps claim_token, the fencing token: the owner's later writes name the token they hold,
// so a server whose lease ran out can never overwrite what a newer owner or the recovery wrote.
import { sql } from 'kysely'
import { lapsed, leaseUntil } from '../cluster/lease.ts'
import type { TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export const ACTIVE = ['PENDING', 'RUNNING', 'CANCELING'] as const

export interface Fence {
  readonly owner: string
  readonly token: number
}

/** Claims the oldest unclaimed PENDING task, skipping rows another server is claiming right now. */
export async function claimNext(db: Db, owner: string, leaseMs: number): Promise<TaskRow | undefined> {
  const r = await sql<TaskRow>`
    update tasks t set owner = ${owner}, lease_expires_at = ${leaseUntil(leaseMs)}, claim_token = t.claim_token + 1, launched_at = null
    from (
      select guid from tasks where state = 'PENDING' and owner is null
      order by created_at, guid limit 1 for update skip locked
    ) c
    where t.guid = c.guid
    returning t.*`.execute(db)
  const row = r.rows[0]
  return row ? { ...row, claim_token: Number(row.claim_token) } : undefined
}

/** Records that the process is about to start; false when the claim is gone or the task left PENDING. */
export async function markLaunched(db: Db, guid: string, f: Fence): Promise<boolean> {
  const r = await db
    .updateTable('tasks')
    .set({ launched_at: new Date() })
    .where('guid', '=', guid)
    .where('owner', '=', f.owner)
    .where('claim_token', '=', f.token)
    .where('state', '=', 'PENDING')
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** RUNNING, fenced; the updated row, or undefined when the claim is gone or the task left PENDING. */
export function markRunning(tx: Db, guid: string, f: Fence, startedAt: Date): Promise<TaskRow | undefined> {
  return tx
    .updateTable('tasks')
    .set({ state: 'RUNNING', started_at: startedAt, updated_at: new Date() })
    .where('guid', '=', guid)
    .where('owner', '=', f.owner)
    .where('claim_token', '=', f.token)
    .where('state', '=', 'PENDING')
    .returningAll()
    .executeTakeFirst()
}

/**
 * Gives a claim back to the queue: one not launched, or (`neverSpawned`) one the stopped executor
 * dropped from its queue, which it reports only once every spawned task has exited.
 */
export async function release(db: Db, guid: string, f: Fence, neverSpawned = false): Promise<boolean> {
  let q = db
    .updateTable('tasks')
    .set((eb) => ({ owner: null, lease_expires_at: null, launched_at: null, claim_token: eb('claim_token', '+', 1) }))
    .where('guid', '=', guid)
    .where('owner', '=', f.owner)
    .where('claim_token', '=', f.token)
    .where('state', '=', 'PENDING')
  if (!neverSpawned) q = q.where('launched_at', 'is', null)
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export interface Renewed {
  readonly guid: string
  readonly state: string
  readonly token: number
}

/**
 * The heartbeat: extends the leases of the tasks this instance holds (only those: a row it no
 * longer tracks must expire and be recovered). Jobs renew their own (src/jobs/runner.ts).
 */
export async function renew(db: Db, owner: string, held: readonly string[], leaseMs: number): Promise<Renewed[]> {
  if (!held.length) return []
  const rows = await db
    .updateTable('tasks')
    .set({ lease_expires_at: leaseUntil(leaseMs) })
    .where('owner', '=', owner)
    .where('guid', 'in', held)
    .where('state', 'in', [...ACTIVE])
    .returning(['guid', 'state', 'claim_token'])
    .execute()
  return rows.map((x) => ({ guid: x.guid, state: x.state, token: Number(x.claim_token) }))
}

export interface Orphan {
  readonly guid: string
  readonly state: string
  readonly owner: string | null
  readonly token: number
  readonly launched: boolean
}

/**
 * Active tasks nobody live owns: a lease that ran out, only when `judge` (src/cluster/lease.ts;
 * this instance's own too: it renews only the claims it holds), a previous instance of this node
 * (known dead: this instance replaced it), or a RUNNING row without owner (written before
 * migration 10). Never a live owner's task.
 */
export async function findOrphans(db: Db, self: { nodeId: string; id: string }, leaseMs: number, judge: boolean, limit = 200): Promise<Orphan[]> {
  const r = await sql<{ guid: string; state: string; owner: string | null; claim_token: number; launched_at: Date | null }>`
    select guid, state, owner, claim_token, launched_at from tasks
    where state in ('PENDING', 'RUNNING', 'CANCELING') and owner is not null
      and (${lapsed('lease_expires_at', leaseMs, judge)} or (split_part(owner, ':', 1) = ${self.nodeId} and owner <> ${self.id}))
    union all
    select guid, state, owner, claim_token, launched_at from tasks
    where state in ('RUNNING', 'CANCELING') and owner is null
    limit ${limit}`.execute(db)
  return r.rows.map((x) => ({ guid: x.guid, state: x.state, owner: x.owner, token: Number(x.claim_token), launched: x.launched_at !== null }))
}

/** Locks the orphan if it is still as seen (same owner and token, still abandoned); undefined otherwise. */
export async function lockOrphan(tx: Db, o: Orphan, self: { nodeId: string; id: string }, leaseMs: number, judge: boolean): Promise<TaskRow | undefined> {
  const r = await sql<TaskRow & { abandoned: boolean }>`
    select *, (owner is null or ${lapsed('lease_expires_at', leaseMs, judge)} or (split_part(owner, ':', 1) = ${self.nodeId} and owner <> ${self.id})) as abandoned
    from tasks where guid = ${o.guid} for update`.execute(tx)
  const row = r.rows[0]
  if (!row || !row.abandoned || row.owner !== o.owner || Number(row.claim_token) !== o.token) return undefined
  if (!(ACTIVE as readonly string[]).includes(row.state)) return undefined
  return row
}

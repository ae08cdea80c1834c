import { sql } from 'kysely'
import type { Permissions } from '../authz/permissions.ts'
import { PRIVATE_DATA_HIDDEN } from '../audit/redaction.ts'
import type { EventRow, TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { verifyEvents, type Integrity } from './integrity.ts'

export interface OutputLineView {
  readonly stream: 'OUT' | 'ERR'
  readonly text: string
  readonly timestamp: string
}

export interface OutputTail {
  readonly lines: readonly OutputLineView[]
  readonly totalLines: number
  readonly truncated: boolean
}

/** Reads a task's stored output; the log pipeline provides it. */
export interface TaskOutputReader {
  tail(taskGuid: string, maxLines: number): Promise<OutputTail>
}

export interface AppliedLimits {
  readonly pids: number
  readonly maxRunSeconds: number
  readonly isolation: string
  readonly memoryLimit: string
}

export interface TrailParts {
  readonly task: TaskRow
  readonly events: readonly EventRow[]
  readonly output: OutputTail
  readonly integrity: Integrity
  readonly showCommand: boolean
  /** Leaf indices in the ledger log: of each event (by seq) and of the task-run record, once integrated. */
  readonly leaves: { readonly events: ReadonlyMap<number, number>; readonly taskRun: number | null }
}

async function leavesOf(db: Db, taskGuid: string, events: readonly EventRow[]): Promise<TrailParts['leaves']> {
  const seqs = events.map((e) => Number(e.seq))
  const rows = (await sql<{ leaf_index: string | number; event_seq: string | number | null; task_guid: string | null }>`
    select leaf_index, event_seq, task_guid from ledger_leaves
    where task_guid = ${taskGuid} ${seqs.length ? sql`or event_seq in (${sql.join(seqs)})` : sql``}`.execute(db)).rows
  const byEvent = new Map<number, number>()
  let taskRun: number | null = null
  for (const r of rows) {
    if (r.task_guid) taskRun = Number(r.leaf_index)
    else byEvent.set(Number(r.event_seq), Number(r.leaf_index))
  }
  return { events: byEvent, taskRun }
}

/** Everything one trail needs, read once; presenting it is separate (presenters/ledger/trail.ts). */
/** A task's audit events (create, cancel, complete), in chain order. */
export function taskEvents(db: Db, taskGuid: string): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where(sql<string>`metadata ->> 'task_guid'`, '=', taskGuid)
    .where('type', 'like', 'audit.app.task.%')
    .orderBy('seq')
    .execute()
}

export async function loadTrail(
  db: Db,
  perms: Permissions,
  task: TaskRow,
  output: TaskOutputReader,
  inlineLines: number,
): Promise<TrailParts> {
  const events = await taskEvents(db, task.guid)
  const [tail, integrity, leaves] = await Promise.all([output.tail(task.guid, inlineLines), verifyEvents(db, events), leavesOf(db, task.guid, events)])
  return { task, events, output: tail, integrity, showCommand: perms.canReadSecretsInSpace(task.space_guid), leaves }
}

export function commandView(task: TaskRow, show: boolean) {
  return { command: show ? task.command : PRIVATE_DATA_HIDDEN, command_fingerprint: task.command_fingerprint }
}

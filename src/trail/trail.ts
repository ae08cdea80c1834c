import { sql } from 'kysely'
import type { Permissions } from '../authz/permissions.ts'
import { PRIVATE_DATA_HIDDEN } from '../audit/redaction.ts'
import type { EventRow, TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { collectedTaskEvents } from '../collect/store.ts'
import { collectedEventEntry, type CcAuditEvent } from '../collect/entries.ts'
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
  /** A run collected from another foundation (docs/collect.md); null for this server's own tasks. */
  readonly collected: CollectedParts | null
}

export interface CollectedParts {
  readonly foundation: string
  /** The foundation's own events of this run, as CC returned them, with their leaf index. */
  readonly events: readonly { readonly event: CcAuditEvent; readonly leafIndex: number | null }[]
  readonly outputSummary: Record<string, unknown> | null
  /** Drain lines of this run's app and task name that could not be given to one run. */
  readonly unattributed: { readonly ambiguous: number; readonly late: number }
  /**
   * Other runs of the same app and task name whose time overlapped this one: the foundation's
   * log envelopes cannot tell them apart, so output from that time may belong to either.
   */
  readonly overlappingRuns: readonly string[]
}

async function loadCollected(db: Db, task: TaskRow, foundation: string): Promise<{ parts: CollectedParts; integrity: Integrity; taskRun: number | null }> {
  const events = await collectedTaskEvents(db, foundation, task.guid)
  const leafRows = (await sql<{ leaf_index: string | number; collected_event_id: string | number | null; task_guid: string | null }>`
    select leaf_index, collected_event_id, task_guid from ledger_leaves
    where task_guid = ${task.guid} ${events.length ? sql`or collected_event_id in (${sql.join(events.map((e) => e.id))})` : sql``}`.execute(db)).rows
  const byId = new Map(leafRows.filter((r) => r.collected_event_id !== null).map((r) => [Number(r.collected_event_id), Number(r.leaf_index)]))
  const taskRun = leafRows.find((r) => r.task_guid !== null)
  const out = (await sql<{ out_lines: number; err_lines: number; bytes: string | number; sha256: string | null; truncated_records: string | number }>`
    select out_lines, err_lines, bytes, sha256, truncated_records from task_outputs where task_guid = ${task.guid} and state = 'complete'`.execute(db)).rows[0]
  const aside = (await sql<{ reason: string; n: string | number }>`
    select reason, count(*) as n from collected_unattributed where ${task.guid} = any(candidates) group by reason`.execute(db)).rows
  const overlapping = (await sql<{ guid: string }>`
    select guid from collected_tasks where foundation = ${foundation} and app_guid = ${task.app_guid} and name = ${task.name} and guid <> ${task.guid}
      and (resource ->> 'created_at')::timestamptz <= ${task.finished_at ?? new Date()} and coalesce(ended_at, now()) >= ${task.created_at}
    order by resource ->> 'created_at'`.execute(db)).rows
  const count = (reason: string) => Number(aside.find((a) => a.reason === reason)?.n ?? 0)
  // Each collected event must still be exactly what was logged: its stored entry re-derives from it.
  const edited = events.find((e) => !collectedEventEntry(foundation, e.resource).equals(e.entry))
  return {
    parts: {
      foundation,
      events: events.map((e) => ({ event: e.resource, leafIndex: byId.get(e.id) ?? null })),
      outputSummary: out ? { out_lines: out.out_lines, err_lines: out.err_lines, bytes: Number(out.bytes), sha256: out.sha256, truncated: Number(out.truncated_records) > 0 } : null,
      unattributed: { ambiguous: count('ambiguous'), late: count('late') },
      overlappingRuns: overlapping.map((r) => r.guid),
    },
    integrity: edited
      ? { verified: false, events_checked: events.length, problem: `collected event ${edited.resource.guid} was changed after it was logged` }
      : { verified: true, events_checked: events.length, problem: null },
    taskRun: taskRun ? Number(taskRun.leaf_index) : null,
  }
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
/** A task's audit events (create, cancel, complete), in seq order. */
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
  if (task.foundation) {
    const [tail, c] = await Promise.all([output.tail(task.guid, inlineLines), loadCollected(db, task, task.foundation)])
    return { task, events: [], output: tail, integrity: c.integrity, showCommand: perms.canReadSecretsInSpace(task.space_guid), leaves: { events: new Map(), taskRun: c.taskRun }, collected: c.parts }
  }
  const events = await taskEvents(db, task.guid)
  const [tail, leaves] = await Promise.all([output.tail(task.guid, inlineLines), leavesOf(db, task.guid, events)])
  const integrity = await verifyEvents(db, events, leaves.events)
  return { task, events, output: tail, integrity, showCommand: perms.canReadSecretsInSpace(task.space_guid), leaves, collected: null }
}

export function commandView(task: TaskRow, show: boolean) {
  return { command: show ? task.command : PRIVATE_DATA_HIDDEN, command_fingerprint: task.command_fingerprint }
}

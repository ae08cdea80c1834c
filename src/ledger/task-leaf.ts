// The leaf of one task run (docs/ledger.md, "Task runs"): written when the task ends, in the same
// transaction as its terminal state, it commits to who ran what where, the outcome, the times,
// the SHA-256 of the task's whole output and the leaf hashes of the task's own audit events.
import { sql } from 'kysely'
import { canonicalJson } from '../audit/chain.ts'
import type { TaskOutputSummary } from '../logs/sink.ts'
import type { TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { eventEntry, type EventFields } from './leaf.ts'
import { leafHash } from './merkle.ts'

export const TASK_RUN_ENTRY_KIND = 'cf-ledger/task-run@v1'

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

export function taskRunEntry(task: TaskRow, events: readonly EventFields[], output: TaskOutputSummary | undefined): Buffer {
  return Buffer.from(
    canonicalJson({
      kind: TASK_RUN_ENTRY_KIND,
      task_guid: task.guid,
      sequence_id: task.sequence_id,
      name: task.name,
      actor: task.created_by,
      command_fingerprint: task.command_fingerprint,
      target: {
        app: { guid: task.app_guid, name: task.target_names.app },
        space: { guid: task.space_guid, name: task.target_names.space },
        organization: { guid: task.organization_guid, name: task.target_names.organization },
      },
      droplet_guid: task.droplet_guid,
      state: task.state,
      failure_reason: task.failure_reason,
      exit_status: task.exit_status,
      created_at: iso(task.created_at),
      started_at: iso(task.started_at),
      finished_at: iso(task.finished_at),
      output: output ? { sha256: output.sha256, bytes: output.bytes, out_lines: output.outLines, err_lines: output.errLines, dropped_lines: output.droppedLines, truncated: output.truncated } : null,
      events: events.map((e) => ({ guid: e.guid, type: e.type, leaf_hash: leafHash(eventEntry(e)).toString('base64') })),
    }),
    'utf8',
  )
}

/** Records the run's leaf; call in the transaction that ends the task, after its completion event. */
export async function recordTaskRun(tx: Db, task: TaskRow, output: TaskOutputSummary | undefined): Promise<void> {
  const rows = (await sql<EventFields & { seq: number | string; created_at: Date | string }>`
    select seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata,
      space_guid, organization_guid from events
    where metadata ->> 'task_guid' = ${task.guid} and type like 'audit.app.task.%' order by seq`.execute(tx)).rows
  const events = rows.map((r) => ({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }))
  await sql`insert into ledger_task_runs (task_guid, entry) values (${task.guid}, ${taskRunEntry(task, events, output)})
    on conflict (task_guid) do nothing`.execute(tx)
}

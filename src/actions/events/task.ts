import { APP_EVENT_TYPES } from '../../audit/event-types.ts'
import type { Actor } from '../../auth/principal.ts'
import type { TaskOutputSummary } from '../../logs/sink.ts'
import type { TaskRow } from '../../store/schema.ts'
import type { Db } from '../../store/store.ts'
import { taskEventMetadata } from '../../audit/redaction.ts'
import { appEventInsert, recordAppEvent } from './app.ts'

function appOf(task: Pick<TaskRow, 'app_guid' | 'target_names' | 'space_guid'>) {
  return { guid: task.app_guid, name: task.target_names.app, space_guid: task.space_guid }
}

/** `audit.app.task.create`, inserted by the statement that inserts the task (the `after` expression). */
export function taskCreateEventInsert(task: Omit<TaskRow, 'sequence_id'>, actor: Actor, after: string) {
  return appEventInsert(appOf(task), task.organization_guid, actor, APP_EVENT_TYPES.taskCreate, taskEventMetadata(task), after)
}

export function recordTaskCancel(tx: Db, task: TaskRow, actor: Actor) {
  return recordAppEvent(tx, appOf(task), task.organization_guid, actor, APP_EVENT_TYPES.taskCancel, taskEventMetadata(task))
}

/** The actor of a completion is the task's creator, as CC does for build.staged/failed. */
export function recordTaskComplete(tx: Db, task: TaskRow, summary: TaskOutputSummary | undefined) {
  const c = task.created_by
  const actor: Actor = { guid: c.guid, type: c.type, name: c.name, username: c.username }
  const started = task.started_at ? new Date(task.started_at) : null
  const finished = task.finished_at ? new Date(task.finished_at) : null
  return recordAppEvent(tx, appOf(task), task.organization_guid, actor, APP_EVENT_TYPES.taskComplete, {
    task_guid: task.guid,
    sequence_id: task.sequence_id,
    name: task.name,
    state: task.state,
    failure_reason: task.failure_reason,
    exit_status: task.exit_status,
    started_at: started?.toISOString() ?? null,
    finished_at: finished?.toISOString() ?? null,
    duration_ms: started && finished ? finished.getTime() - started.getTime() : null,
    output: summary
      ? {
          out_lines: summary.outLines,
          err_lines: summary.errLines,
          bytes: summary.bytes,
          sha256: summary.sha256,
          dropped_lines: summary.droppedLines,
          truncated: summary.truncated,
        }
      : null,
  })
}

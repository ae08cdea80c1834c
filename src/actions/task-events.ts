import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import type { Actor } from '../auth/principal.ts'
import type { TaskOutputSummary } from '../logs/sink.ts'
import type { TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { PRIVATE_DATA_HIDDEN, recordAppEvent } from './app-events.ts'

/** Our extension (docs/task-trail.md): recorded when a task reaches SUCCEEDED or FAILED. */
export const TASK_COMPLETE = 'audit.app.task.complete'

function appOf(task: TaskRow) {
  return { guid: task.app_guid, name: task.target_names.app, space_guid: task.space_guid }
}

/** CC's TaskEventRepository shape: the command is always censored. */
function taskRequest(task: TaskRow) {
  return { task_guid: task.guid, request: { name: task.name, memory_in_mb: task.memory_in_mb, command: PRIVATE_DATA_HIDDEN } }
}

export function recordTaskCreate(tx: Db, task: TaskRow, actor: Actor) {
  return recordAppEvent(tx, appOf(task), task.organization_guid, actor, APP_EVENT_TYPES.taskCreate, taskRequest(task))
}

export function recordTaskCancel(tx: Db, task: TaskRow, actor: Actor) {
  return recordAppEvent(tx, appOf(task), task.organization_guid, actor, APP_EVENT_TYPES.taskCancel, taskRequest(task))
}

/** The actor of a completion is the task's creator, as CC does for build.staged/failed. */
export function recordTaskComplete(tx: Db, task: TaskRow, summary: TaskOutputSummary | undefined) {
  const c = task.created_by
  const actor: Actor = { guid: c.guid, type: c.type, name: c.name, username: c.username }
  const started = task.started_at ? new Date(task.started_at) : null
  const finished = task.finished_at ? new Date(task.finished_at) : null
  return recordAppEvent(tx, appOf(task), task.organization_guid, actor, TASK_COMPLETE, {
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

// What the task use cases hand to the log pipeline. The pipeline turns lines into Loggregator
// envelopes, keeps them in memory and durably, and ships them to drains.
import type { OutputLine } from '../executor/executor.ts'
import type { TaskRow } from '../store/schema.ts'

export interface TaskLogContext {
  readonly taskGuid: string
  readonly taskName: string
  readonly appGuid: string
  readonly appName: string
  readonly spaceGuid: string
  readonly spaceName: string
  readonly organizationGuid: string
  readonly organizationName: string
  /** -1 = unlimited, as CF. */
  readonly logRateLimitBytesPerSecond: number
}

/**
 * Exact whatever was stored or drained (docs/logs.md): counts, bytes and hash cover every line the
 * task wrote, including lines the rate limit dropped.
 */
export interface TaskOutputSummary {
  readonly outLines: number
  readonly errLines: number
  /** Σ (UTF-8 bytes of the line + 1): exactly the bytes hashed. */
  readonly bytes: number
  /** SHA-256 (hex) over every line the task wrote, in order, each followed by "\n". */
  readonly sha256: string
  /** Lines dropped by the log rate limit (counted above, neither stored nor drained). */
  readonly droppedLines: number
  /**
   * True when a cap cut the stored output by the time the task finished (recorded on the stored
   * summary, never silent). Later cuts by total size or age are recorded there too.
   */
  readonly truncated: boolean
}

/** How a task ended, as the log shows it; the task runner works it out once (tasks/failure-reason.ts). */
export interface TaskEnd {
  /** Diego's exit status (a signal death is 128 + N); null when the command never ran (no `Exit status` line). */
  readonly exitStatus: number | null
  readonly oomKilled: boolean
}

export interface TaskLogSink {
  /** Before the process starts: CF's `CELL` lifecycle lines. */
  taskStarting(ctx: TaskLogContext): void
  /** One line of task output, in order. Must not block. */
  taskOutput(ctx: TaskLogContext, line: OutputLine): void
  /** After exit: the `Exit status` and CELL lines; resolves once the output and its summary are durable. */
  taskExited(ctx: TaskLogContext, end: TaskEnd): Promise<TaskOutputSummary>
}

export function logContextOf(task: TaskRow): TaskLogContext {
  return {
    taskGuid: task.guid,
    taskName: task.name,
    appGuid: task.app_guid,
    appName: task.target_names.app,
    spaceGuid: task.space_guid,
    spaceName: task.target_names.space,
    organizationGuid: task.organization_guid,
    organizationName: task.target_names.organization,
    logRateLimitBytesPerSecond: task.log_rate_limit_in_bytes_per_second,
  }
}

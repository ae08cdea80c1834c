import type { Logger } from 'pino'
import { recordTaskComplete } from '../actions/task-events.ts'
import { recordTaskRun } from '../ledger/task-leaf.ts'
import type { Executor, ExecutorListener, OutputLine, TaskExit, TaskLimits } from '../executor/executor.ts'
import type { TaskLogContext, TaskLogSink, TaskOutputSummary } from '../logs/sink.ts'
import type { TaskRow } from '../store/schema.ts'
import { retryUntilLands } from '../store/retry.ts'
import type { Db } from '../store/store.ts'
import { presentVcapServices } from '../presenters/system-env.ts'
import { runningGroupVariables } from '../queries/platform.ts'
import { appBindingsWithInstances } from '../queries/service-instances.ts'
import { taskEnvironment } from './environment.ts'
import { recordTaskUsage } from '../actions/app-usage-events.ts'
import { CANCELLED, failureReasonOf, NOT_STARTED, taskExitStatus, UNKNOWN_COMPLETION } from './failure-reason.ts'

export interface TaskRunnerDeps {
  readonly db: Db
  readonly sink: TaskLogSink
  readonly logger: Logger
  /** Extracts a droplet once and returns its directory. */
  materializeDroplet(dropletGuid: string): Promise<string>
  readonly limits: Pick<TaskLimits, 'pids' | 'maxRunSeconds'>
  readonly apiUrl: () => string
}

const TERMINAL = ['SUCCEEDED', 'FAILED'] as const

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

/**
 * Moves tasks through their states around the executor. Every state change is committed before
 * it is reported; a task's terminal state, its output and its completion event become durable
 * together.
 */
export class TaskRunner implements ExecutorListener {
  private executor: Executor | undefined
  private readonly contexts = new Map<string, TaskLogContext>()

  constructor(private readonly deps: TaskRunnerDeps) {}

  attach(executor: Executor): void {
    this.executor = executor
  }

  async submit(task: TaskRow): Promise<void> {
    const { db } = this.deps
    try {
      const app = await db.selectFrom('apps').selectAll().where('guid', '=', task.app_guid).executeTakeFirstOrThrow()
      const [bindings, runningGroup] = await Promise.all([appBindingsWithInstances(db, app.guid), runningGroupVariables(db)])
      const dropletDir = await this.deps.materializeDroplet(task.droplet_guid)
      const ctx = logContextOf(task)
      this.contexts.set(task.guid, ctx)
      this.deps.sink.taskStarting(ctx)
      this.executor!.submit({
        taskGuid: task.guid,
        command: task.command,
        dropletDir,
        env: taskEnvironment({
          task,
          app,
          spaceName: task.target_names.space,
          organizationName: task.target_names.organization,
          apiUrl: this.deps.apiUrl(),
          vcapServices: presentVcapServices(bindings),
          runningGroup,
        }),
        limits: { memoryMb: task.memory_in_mb, diskMb: task.disk_in_mb, ...this.deps.limits },
      })
    } catch (err) {
      this.deps.logger.error({ err, task: task.guid }, 'could not submit task')
      await this.finish(task.guid, { state: 'FAILED', failureReason: NOT_STARTED, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined)
    }
  }

  /** Asks the executor to stop the task; a task it does not know is failed right away. */
  async cancel(taskGuid: string): Promise<void> {
    const known = await this.executor?.cancel(taskGuid)
    if (!known) {
      await this.finish(taskGuid, { state: 'FAILED', failureReason: CANCELLED, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined)
    }
  }

  /**
   * The executor's reports must land even while the database is away: each is retried until it
   * does (and is idempotent). The task's own code waits for RUNNING to be stored, so a task never
   * runs while the store still says PENDING (a restart would run it again).
   */
  private land<T>(what: string, taskGuid: string, write: () => Promise<T>): Promise<T> {
    return retryUntilLands(`${what} of task ${taskGuid}`, write, { logger: this.deps.logger })
  }

  async started(taskGuid: string, info: { pid: number; startedAt: Date }): Promise<void> {
    // The RUNNING state and its TASK_STARTED usage event commit together; a retry finds the task no longer PENDING.
    await this.land('the RUNNING state', taskGuid, () =>
      this.deps.db.transaction().execute(async (tx) => {
        const task = await tx
          .updateTable('tasks')
          .set({ state: 'RUNNING', started_at: info.startedAt, updated_at: new Date() })
          .where('guid', '=', taskGuid)
          .where('state', '=', 'PENDING')
          .returningAll()
          .executeTakeFirst()
        if (task) await recordTaskUsage(tx, task, 'TASK_STARTED', 'PENDING')
      }),
    )
  }

  output(taskGuid: string, line: OutputLine): void {
    const ctx = this.contexts.get(taskGuid)
    if (ctx) this.deps.sink.taskOutput(ctx, line)
  }

  async exited(taskGuid: string, exit: TaskExit): Promise<void> {
    const task = await this.land('reading the exit', taskGuid, () =>
      this.deps.db.selectFrom('tasks').selectAll().where('guid', '=', taskGuid).executeTakeFirst(),
    )
    if (!task) return
    const ctx = this.contexts.get(taskGuid) ?? logContextOf(task)
    this.contexts.delete(taskGuid)
    const reason = failureReasonOf(task.name, exit, this.deps.limits.maxRunSeconds, task.disk_in_mb)
    const exitStatus = taskExitStatus(exit)
    const summary = await this.deps.sink.taskExited(ctx, { exitStatus, oomKilled: exit.oomKilled })
    await this.finish(
      taskGuid,
      {
        state: reason === null ? 'SUCCEEDED' : 'FAILED',
        failureReason: reason,
        exitStatus,
        startedAt: exit.startedAt,
        finishedAt: exit.finishedAt,
      },
      summary,
    )
  }

  private async finish(
    taskGuid: string,
    r: { state: 'SUCCEEDED' | 'FAILED'; failureReason: string | null; exitStatus: number | null; startedAt: Date | null; finishedAt: Date },
    summary: TaskOutputSummary | undefined,
  ): Promise<void> {
    // The final state and audit.app.task.complete commit together, once: a retry finds the task terminal.
    await this.land('the final state', taskGuid, () => this.finishOnce(taskGuid, r, summary))
  }

  private async finishOnce(
    taskGuid: string,
    r: { state: 'SUCCEEDED' | 'FAILED'; failureReason: string | null; exitStatus: number | null; startedAt: Date | null; finishedAt: Date },
    summary: TaskOutputSummary | undefined,
  ): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const task = await tx.selectFrom('tasks').selectAll().where('guid', '=', taskGuid).forUpdate().executeTakeFirst()
      if (!task || (TERMINAL as readonly string[]).includes(task.state)) return
      const updated = await tx
        .updateTable('tasks')
        .set({
          state: r.state,
          failure_reason: r.failureReason,
          exit_status: r.exitStatus,
          started_at: task.started_at ?? r.startedAt,
          finished_at: r.finishedAt,
          updated_at: new Date(),
        })
        .where('guid', '=', taskGuid)
        .returningAll()
        .executeTakeFirstOrThrow()
      // As CC: a stop event only for a task that has a start event (it reached RUNNING).
      if (task.started_at !== null) await recordTaskUsage(tx, updated, 'TASK_STOPPED', task.state)
      await recordTaskComplete(tx, updated, summary)
      await recordTaskRun(tx, updated, summary)
    })
  }

  /**
   * After a restart: tasks that were running are gone with the old process, so they fail with
   * CF's "Unable to determine completion status"; queued ones are submitted again in order.
   */
  async recover(): Promise<{ failed: number; resubmitted: number }> {
    const { db } = this.deps
    const lost = await db.selectFrom('tasks').select('guid').where('state', 'in', ['RUNNING', 'CANCELING']).execute()
    for (const t of lost) {
      await this.finish(t.guid, { state: 'FAILED', failureReason: UNKNOWN_COMPLETION, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined)
    }
    const pending = await db.selectFrom('tasks').selectAll().where('state', '=', 'PENDING').orderBy('created_at').orderBy('guid').execute()
    for (const t of pending) await this.submit(t)
    return { failed: lost.length, resubmitted: pending.length }
  }
}

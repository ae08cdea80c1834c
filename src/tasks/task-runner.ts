import type { Logger } from 'pino'
import { recordTaskComplete } from '../actions/events/task.ts'
import { recordTaskRun } from '../ledger/task-leaf.ts'
import type { ClusterBus } from '../cluster/bus.ts'
import type { Instance } from '../cluster/config.ts'
import { Vantage } from '../cluster/lease.ts'
import type { Executor, ExecutorListener, OutputLine, TaskExit, TaskLimits } from '../executor/executor.ts'
import { logContextOf, type TaskLogContext, type TaskLogSink, type TaskOutputSummary } from '../logs/sink.ts'
import type { TaskRow } from '../store/schema.ts'
import { retryUntilLands } from '../store/retry.ts'
import type { Db } from '../store/store.ts'
import { presentVcapServices } from '../presenters/system-env.ts'
import { runningGroupVariables } from '../queries/platform.ts'
import { appBindingsWithInstances } from '../queries/service-instances.ts'
import { recordTaskUsage } from '../actions/app-usage-events.ts'
import { claimNext, markLaunched, markRunning, release, renew, type Fence, type Orphan } from './claims.ts'
import { recoverOrphans } from './recovery.ts'
import { taskEnvironment } from './environment.ts'
import { CANCELLED, failureReasonOf, NOT_STARTED, taskExitStatus } from './failure-reason.ts'

export interface TaskRunnerDeps {
  readonly db: Db
  readonly sink: TaskLogSink
  readonly logger: Logger
  /** Extracts a droplet once and returns its directory. */
  materializeDroplet(dropletGuid: string): Promise<string>
  readonly limits: Pick<TaskLimits, 'pids' | 'maxRunSeconds'>
  readonly apiUrl: () => string
  /** This server instance: the owner of the tasks it claims (docs/cluster.md). */
  readonly instance: Instance
  readonly bus: ClusterBus
  /** Tasks this server runs at once (the executor's concurrency). */
  readonly slots: number
  readonly leaseMs: number
  readonly pollMs: number
  /** Marks the stored output of tasks that recovery failed as interrupted. */
  interruptOutput(taskGuids: readonly string[]): Promise<void>
}

const TERMINAL = ['SUCCEEDED', 'FAILED'] as const

interface Claim {
  readonly fence: Fence
  /** Date.now() once the claim committed: a heartbeat sent earlier may not have seen it. */
  readonly at: number
  launched: boolean
  cancelRequested: boolean
  lost: boolean
  ctx?: TaskLogContext
}

type Outcome = { state: 'SUCCEEDED' | 'FAILED'; failureReason: string | null; exitStatus: number | null; startedAt: Date | null; finishedAt: Date }

/**
 * Moves tasks through their states around the executor. Tasks are claimed from the database by
 * whichever server has a free slot; every state change this server writes is fenced by the claim
 * it holds, and committed before it is reported. A task's terminal state, its output and its
 * completion event become durable together.
 */
export class TaskRunner implements ExecutorListener {
  private executor: Executor | undefined
  private readonly claims = new Map<string, Claim>()
  private readonly timers: NodeJS.Timeout[] = []
  private readonly unlisten: (() => void)[] = []
  private stopping = false
  private pumping: Promise<void> | undefined
  private pumpAgain = false
  private sweeping: Promise<void> | undefined
  private heartbeat: Promise<void> | undefined
  private readonly vantage: Vantage

  constructor(private readonly deps: TaskRunnerDeps) {
    this.vantage = new Vantage(deps.leaseMs)
  }

  attach(executor: Executor): void {
    this.executor = executor
  }

  /** Tasks this server has claimed right now. */
  owned(): string[] {
    return [...this.claims.keys()]
  }

  /**
   * Recovers what a previous instance of this node and dead servers left, then claims work: on
   * a notification, when a slot frees, and every `pollMs` as a fallback.
   */
  async start(): Promise<void> {
    const { bus, leaseMs, pollMs } = this.deps
    this.unlisten.push(
      bus.listen('cf_ledger_task_created', () => this.pump()),
      bus.listen('cf_ledger_task_cancel', (guid) => {
        if (this.claims.has(guid)) void this.cancelLocal(guid)
      }),
    )
    await this.sweep()
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms)
      t.unref()
      this.timers.push(t)
    }
    every(Math.max(50, Math.floor(leaseMs / 3)), () => void this.beat())
    every(Math.max(100, Math.floor(leaseMs / 2)), () => void this.sweep())
    every(pollMs, () => this.pump())
    this.pump()
  }

  /** A task was created (on this server): every server with a free slot may claim it. */
  created(): void {
    this.pump()
    void this.deps.bus.notify('cf_ledger_task_created', '')
  }

  /** After CANCELING is committed: stops the task here, tells its owner, or fails it if unclaimed. */
  async cancel(taskGuid: string): Promise<void> {
    if (this.claims.has(taskGuid)) return this.cancelLocal(taskGuid)
    const cancelled = await this.finish(taskGuid, { state: 'FAILED', failureReason: CANCELLED, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined, 'unclaimed')
    if (!cancelled) await this.deps.bus.notify('cf_ledger_task_cancel', taskGuid)
  }

  private async cancelLocal(taskGuid: string): Promise<void> {
    const c = this.claims.get(taskGuid)
    if (!c || c.cancelRequested) return
    c.cancelRequested = true
    // Not launched yet: the launch sees CANCELING and records the cancel itself.
    if (c.launched) await this.executor?.cancel(taskGuid)
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = this.claimWhileFree()
      .catch((err) => this.deps.logger.warn({ err }, 'claiming tasks failed; retrying at the next poll'))
      .finally(() => {
        this.pumping = undefined
        if (this.pumpAgain) {
          this.pumpAgain = false
          this.pump()
        }
      })
  }

  private async claimWhileFree(): Promise<void> {
    const { db, instance, leaseMs, slots } = this.deps
    while (!this.stopping && this.claims.size < slots) {
      const task = await claimNext(db, instance.id, leaseMs)
      if (!task) return
      const claim: Claim = { fence: { owner: instance.id, token: task.claim_token }, at: Date.now(), launched: false, cancelRequested: false, lost: false }
      this.claims.set(task.guid, claim)
      void this.launch(task, claim)
    }
  }

  private async launch(task: TaskRow, claim: Claim): Promise<void> {
    const { db } = this.deps
    try {
      const app = await db.selectFrom('apps').selectAll().where('guid', '=', task.app_guid).executeTakeFirstOrThrow()
      const [bindings, runningGroup] = await Promise.all([appBindingsWithInstances(db, app.guid), runningGroupVariables(db)])
      const dropletDir = await this.deps.materializeDroplet(task.droplet_guid)
      if (claim.lost) return
      if (this.stopping) {
        await release(db, task.guid, claim.fence)
        this.drop(task.guid)
        return
      }
      if (!(await markLaunched(db, task.guid, claim.fence))) {
        // Cancelled while we prepared it (or the claim is gone): record the cancel, never start it.
        await this.finish(task.guid, { state: 'FAILED', failureReason: CANCELLED, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined, claim.fence)
        this.drop(task.guid)
        return
      }
      claim.launched = true
      claim.ctx = logContextOf(task)
      this.deps.sink.taskStarting(claim.ctx)
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
      if (claim.cancelRequested) await this.executor!.cancel(task.guid)
    } catch (err) {
      this.deps.logger.error({ err, task: task.guid }, 'could not start task')
      await this.finish(task.guid, { state: 'FAILED', failureReason: NOT_STARTED, exitStatus: null, startedAt: null, finishedAt: new Date() }, undefined, claim.fence).catch(() => false)
      this.drop(task.guid)
    }
  }

  private drop(taskGuid: string): void {
    this.claims.delete(taskGuid)
    this.pump()
  }

  /**
   * The executor's reports must land even while the database is away: each is retried until it
   * does (and is idempotent, and fenced by the claim).
   */
  private land<T>(what: string, taskGuid: string, write: () => Promise<T>): Promise<T> {
    return retryUntilLands(`${what} of task ${taskGuid}`, write, { logger: this.deps.logger })
  }

  async started(taskGuid: string, info: { pid: number; startedAt: Date }): Promise<void> {
    const c = this.claims.get(taskGuid)
    if (!c) return
    // RUNNING and its TASK_STARTED usage event commit together; a retry finds the task no longer PENDING.
    await this.land('the RUNNING state', taskGuid, () =>
      this.deps.db.transaction().execute(async (tx) => {
        const task = await markRunning(tx, taskGuid, c.fence, info.startedAt)
        if (task) await recordTaskUsage(tx, task, 'TASK_STARTED', 'PENDING')
      }),
    )
  }

  output(taskGuid: string, line: OutputLine): void {
    const ctx = this.claims.get(taskGuid)?.ctx
    if (ctx) this.deps.sink.taskOutput(ctx, line)
  }

  async exited(taskGuid: string, exit: TaskExit): Promise<void> {
    const c = this.claims.get(taskGuid)
    if (!c) return
    try {
      const task = await this.land('reading the exit', taskGuid, () =>
        this.deps.db.selectFrom('tasks').selectAll().where('guid', '=', taskGuid).executeTakeFirst(),
      )
      if (!task) return
      const ctx = c.ctx ?? logContextOf(task)
      const reason = failureReasonOf(task.name, exit, this.deps.limits.maxRunSeconds, task.disk_in_mb)
      const exitStatus = taskExitStatus(exit)
      const summary = await this.deps.sink.taskExited(ctx, { exitStatus, oomKilled: exit.oomKilled })
      const stored = await this.finish(
        taskGuid,
        {
          state: reason === null ? 'SUCCEEDED' : 'FAILED',
          failureReason: reason,
          exitStatus,
          startedAt: exit.startedAt,
          finishedAt: exit.finishedAt,
        },
        summary,
        c.fence,
      )
      if (!stored && !c.lost) this.deps.logger.warn({ task: taskGuid }, 'task result not recorded: its claim was taken over')
    } finally {
      this.drop(taskGuid)
    }
  }

  /**
   * Writes a terminal state and its completion event, once. `fence` = only while this claim is
   * current; 'unclaimed' = only a task no server holds (a direct cancel of a PENDING task).
   */
  private finish(taskGuid: string, r: Outcome, summary: TaskOutputSummary | undefined, fence: Fence | 'unclaimed'): Promise<boolean> {
    // The final state and audit.app.task.complete commit together, once: a retry finds the task terminal.
    return this.land('the final state', taskGuid, () => this.finishOnce(taskGuid, r, summary, fence))
  }

  private finishOnce(taskGuid: string, r: Outcome, summary: TaskOutputSummary | undefined, fence: Fence | 'unclaimed'): Promise<boolean> {
    return this.deps.db.transaction().execute(async (tx) => {
      const task = await tx.selectFrom('tasks').selectAll().where('guid', '=', taskGuid).forUpdate().executeTakeFirst()
      if (!task || (TERMINAL as readonly string[]).includes(task.state)) return false
      if (fence === 'unclaimed' ? task.owner !== null || task.state !== 'CANCELING' : task.owner !== fence.owner || Number(task.claim_token) !== fence.token) return false
      const updated = await tx
        .updateTable('tasks')
        .set({
          state: r.state,
          failure_reason: r.failureReason,
          exit_status: r.exitStatus,
          started_at: task.started_at ?? r.startedAt,
          finished_at: r.finishedAt,
          updated_at: new Date(),
          lease_expires_at: null,
        })
        .where('guid', '=', taskGuid)
        .returningAll()
        .executeTakeFirstOrThrow()
      // As CC: a stop event only for a task that has a start event (it reached RUNNING).
      if (task.started_at !== null) await recordTaskUsage(tx, updated, 'TASK_STOPPED', task.state)
      await recordTaskComplete(tx, updated, summary)
      await recordTaskRun(tx, updated, summary)
      return true
    })
  }

  /** Renews this server's leases; a claim missing from the answer was taken over: stop its process. */
  private beat(): Promise<void> {
    this.heartbeat ??= (async () => {
      const startedAt = Date.now()
      try {
        const held = new Map((await renew(this.deps.db, this.deps.instance.id, [...this.claims.keys()], this.deps.leaseMs)).map((r) => [r.guid, r]))
        for (const [guid, c] of this.claims) {
          const r = held.get(guid)
          if (r && r.token === c.fence.token) {
            if (r.state === 'CANCELING') void this.cancelLocal(guid)
            continue
          }
          if (c.at >= startedAt || c.lost) continue
          c.lost = true
          this.deps.logger.warn({ task: guid }, 'lost the lease of a task (another server recovered it); stopping it here')
          if (c.launched) await this.executor?.cancel(guid)
          else this.drop(guid)
        }
      } catch (err) {
        this.deps.logger.warn({ err }, 'task lease heartbeat failed')
      }
    })().finally(() => (this.heartbeat = undefined))
    return this.heartbeat
  }

  /**
   * Recovery by owner: only tasks of a previous instance of this node or of a server whose lease
   * ran out. An unlaunched claim goes back to the queue; a task whose process may have started
   * fails with CF's "Unable to determine completion status" (never started twice).
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.recover()
      .catch((err) => this.deps.logger.warn({ err }, 'task recovery sweep failed'))
      .finally(() => (this.sweeping = undefined))
    return this.sweeping
  }

  private async recover(): Promise<void> {
    // Renew first: a claim this instance still holds is alive, however late its last renewal
    // landed (a database outage), and must never be failed by its own owner.
    await this.beat()
    const { db, instance, leaseMs } = this.deps
    const tracked = (o: Orphan) => o.owner === instance.id && this.claims.has(o.guid)
    const { failed, released } = await this.vantage.look((judge) => recoverOrphans(db, instance, leaseMs, judge, tracked))
    if (failed.length) await this.deps.interruptOutput(failed)
    if (failed.length || released) {
      this.deps.logger.warn({ failed: failed.length, requeued: released }, 'recovered tasks of a stopped or unreachable server')
      if (released) this.created()
    }
  }

  /**
   * Graceful stop: claims nothing more, gives unlaunched claims back at once, lets running tasks
   * finish for up to `drainMs`, then has the executor kill the rest (failed as a server shutdown).
   */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true
    for (const u of this.unlisten) u()
    await this.pumping
    for (const [guid, c] of this.claims) {
      if (!c.launched && (await release(this.deps.db, guid, c.fence).catch(() => false))) this.claims.delete(guid)
    }
    if (this.claims.size) void this.deps.bus.notify('cf_ledger_task_created', '')
    const deadline = Date.now() + drainMs
    while (this.claims.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await this.executor?.shutdown()
    // Whatever is left never spawned (the executor dropped it from its queue): back to the queue.
    for (const [guid, c] of this.claims) await release(this.deps.db, guid, c.fence, true).catch(() => false)
    for (const t of this.timers) clearInterval(t)
    await this.heartbeat
    await this.sweeping
  }
}

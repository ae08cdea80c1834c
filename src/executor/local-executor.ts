// Runs tasks as local child processes: a private working copy of the droplet, an unprivileged
// user, a bubblewrap sandbox where the host allows it, cgroup memory/pids limits, a polled disk
// limit, an optional run-time limit, a FIFO queue in front of a fixed number of slots.
// docs/executor.md describes what each mode isolates and what it does not; host.ts detects the
// mode, kill.ts stops a task's processes, reaper.ts cleans up after a crashed server.
import fsp from 'node:fs/promises'
import path from 'node:path'
import { type CgroupDriver, detectCgroups } from './cgroups.ts'
import { diskUsage } from './disk.ts'
import { type Executor, type ExecutorInfo, type ExecutorListener, type OutputLine, type TaskExit, type TaskSpec, neverStarted } from './executor.ts'
import { type BwrapMode, describe, probeBwrap } from './host.ts'
import { type KillTarget, killTree, terminate } from './kill.ts'
import { LineSplitter, MAX_LINE_BYTES, StreamCapture, TaskClock } from './line-reader.ts'
import { KeyedFifo } from './queue.ts'
import { NOTHING_REAPED, type OrphanRecord, type ReapReport, reapLeftovers } from './reaper.ts'
import { EtcSnapshot, type TaskUser, type Tools, findTools, resolveTaskUser, traversableBy } from './sandbox.ts'
import { type Spawned, type TaskHost, type TaskProcess, errorText, prepareTask, spawnTask } from './task-process.ts'
import { cgroupParentOf, executorIdOf, markerPrefix, taskDirName } from './task-ids.ts'

export type { OrphanRecord, ReapReport } from './reaper.ts'

export interface ExecutorLogger {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface LocalExecutorOptions {
  /** Per-task working copies go in `<workRoot>/<taskGuid>`; must be searchable by the task user. */
  readonly workRoot: string
  /** Tasks running at once; more wait in FIFO order. */
  readonly concurrency: number
  /** Cancel/time-out: SIGTERM, then SIGKILL after this many ms (CF: 10 000). */
  readonly cancelGraceMs: number
  /** Share the host's network with tasks (CF tasks have network); false = only a private loopback. */
  readonly network: boolean
  /** Task user when running as root (default `cf-ledger-task`, created if missing). */
  readonly user?: string
  /** 'auto' (default): bubblewrap when it works here; 'bwrap': required; 'none': plain process. */
  readonly sandbox?: 'auto' | 'bwrap' | 'none'
  /** 'auto' (default): use cgroups when writable; 'none': never (rlimits only). */
  readonly cgroups?: 'auto' | 'none'
  /** Disk usage poll interval (default 250 ms). */
  readonly diskPollMs?: number
  /** Longest delivered line in bytes (default 64 KiB); longer lines are split. */
  readonly maxLineBytes?: number
}

interface Job extends KillTarget, TaskProcess {
  /** Its exit is known (being reported); cancel no longer applies. */
  done: boolean
  /** hrtime (ns) at submit, dequeue, prepared, spawned, exit seen, output drained. */
  readonly t: bigint[]
}

const MB = 1024 * 1024

/** What `LocalExecutor.probe` found on this host. */
export interface ProbedHost {
  readonly user: TaskUser
  readonly tools: Tools
  readonly cgroups: CgroupDriver | null
  readonly bwrap: BwrapMode | null
  readonly etc: EtcSnapshot
}

/** Runs fn; logs instead of throwing. */
async function guarded(log: ExecutorLogger, what: string, task: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    log.error({ err, task }, `executor listener ${what} failed`)
  }
}

export class LocalExecutor implements Executor {
  readonly info: ExecutorInfo
  readonly id: string
  readonly workRoot: string
  /** What `create` found and killed from a previous run. */
  startupReap: ReapReport = NOTHING_REAPED
  private readonly queue = new KeyedFifo<Job>()
  private readonly running = new Map<string, Job>()
  private readonly finishing = new Set<Promise<void>>()
  private readonly cleanups = new Set<Promise<void>>()
  private closed = false
  private readonly diskPollMs: number
  private readonly maxLineBytes: number
  private readonly host: TaskHost

  private constructor(
    private readonly options: LocalExecutorOptions,
    private readonly listener: ExecutorListener,
    private readonly log: ExecutorLogger,
    private readonly user: TaskUser,
    private readonly tools: Tools,
    private readonly cgroups: CgroupDriver | null,
    private readonly bwrap: BwrapMode | null,
    private readonly etc: EtcSnapshot,
  ) {
    this.workRoot = path.resolve(options.workRoot)
    this.id = executorIdOf(this.workRoot)
    this.diskPollMs = options.diskPollMs ?? 250
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES
    this.host = { executorId: this.id, user, tools, bwrap, cgroups, network: options.network, etcDir: () => etc.path() }
    this.info = describe({ user, tools, cgroups, bwrap, network: options.network, diskPollMs: this.diskPollMs })
  }

  /**
   * Detects what the host offers: the task user, tools, cgroups, the sandbox's /etc copy and a
   * bwrap run. It needs no listener and reaps nothing, so a server starts it before its store is
   * open and hands the result to `create`.
   */
  static async probe(options: LocalExecutorOptions, log: ExecutorLogger): Promise<ProbedHost> {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('task concurrency must be at least 1')
    const workRoot = path.resolve(options.workRoot)
    const user = resolveTaskUser(options.user, log)
    await fsp.mkdir(workRoot, { recursive: true, mode: 0o711 })
    if (user.switched) await fsp.chmod(workRoot, 0o711)
    const tools = findTools()
    if (!tools.setpriv) log.warn({}, 'setpriv (util-linux) not found: plain-process tasks run without no_new_privs and do not die with the server')
    const cgroups = options.cgroups === 'none' ? null : await detectCgroups(cgroupParentOf(executorIdOf(workRoot)))
    if (options.sandbox !== 'none' && !traversableBy(workRoot, user)) {
      // bwrap resolves the working copy's path as the task user.
      throw new Error(`the task user ${user.name} cannot reach the task work directory ${workRoot}: a parent directory is closed to it (choose another CF_LEDGER_TASK_WORK_DIR)`)
    }
    const etc = new EtcSnapshot(workRoot, undefined, undefined, (err) => log.warn({ err }, 'could not refresh the sandbox /etc copy; tasks keep the one in use'))
    const bwrap = options.sandbox === 'none' ? null : await probeBwrap(workRoot, user, tools, options.network, log, etc)
    if (!bwrap && options.sandbox === 'bwrap') throw new Error('bubblewrap is required (sandbox: bwrap) but does not work on this host; see the log')
    return { user, tools, cgroups, bwrap, etc }
  }

  /** Probes the host (unless given its probe), reaps what a previous server left behind, and returns a ready executor. */
  static async create(
    options: LocalExecutorOptions,
    listener: ExecutorListener,
    log: ExecutorLogger,
    probed: Promise<ProbedHost> = LocalExecutor.probe(options, log),
  ): Promise<LocalExecutor> {
    const { user, tools, cgroups, bwrap, etc } = await probed
    const executor = new LocalExecutor(options, listener, log, user, tools, cgroups, bwrap, etc)
    if (!options.network && !bwrap) log.warn({}, 'task network cannot be turned off without the bubblewrap sandbox: tasks keep the host network')
    const report = await executor.reapOrphans()
    executor.startupReap = report
    if (report.killedPids.length || report.removedCgroups || report.removedWorkDirs.length) {
      log.warn({ ...report }, 'killed task processes and removed working copies left by a previous run')
    }
    log.info({ ...executor.info }, 'task executor ready')
    return executor
  }

  submit(spec: TaskSpec): void {
    if (this.closed) throw new Error('the executor is shut down')
    if (this.running.has(spec.taskGuid) || this.queue.has(spec.taskGuid)) throw new Error(`task ${spec.taskGuid} is already submitted`)
    this.queue.push(spec.taskGuid, {
      spec,
      taskDir: path.join(this.workRoot, taskDirName(spec.taskGuid)),
      marker: markerPrefix(this.id) + spec.taskGuid,
      sandboxed: this.bwrap !== null,
      killed: false,
      done: false,
      t: [process.hrtime.bigint()],
    })
    this.pump()
  }

  active(): string[] {
    const running = [...this.running.values()].filter((j) => !j.done).map((j) => j.spec.taskGuid)
    return [...running, ...this.queue.keys()]
  }

  async cancel(taskGuid: string): Promise<boolean> {
    const queued = this.queue.remove(taskGuid)
    if (queued) {
      await this.report(queued, neverStarted({ cancelled: true }))
      return true
    }
    const job = this.running.get(taskGuid)
    if (!job || job.done) return false
    terminate(job, 'cancel', this.options.cancelGraceMs)
    return true
  }

  async shutdown(): Promise<void> {
    this.closed = true
    const dropped = this.queue.drain()
    if (dropped.length) this.log.info({ tasks: dropped.map((j) => j.spec.taskGuid) }, 'executor shutting down; queued tasks were not started')
    for (const job of this.running.values()) terminate(job, 'shutdown', this.options.cancelGraceMs)
    while (this.finishing.size) await Promise.all([...this.finishing])
    await Promise.all([...this.cleanups])
    this.etc.remove()
    await this.cgroups?.dispose()
    // Leave no empty work root behind (test servers make many); a non-empty one stays.
    await fsp.rmdir(this.workRoot).catch(() => {})
  }

  /**
   * Kills processes and removes cgroups and working copies a previous server on the same work root
   * left behind (it runs at `create`; call it again with the pids your store recorded to be
   * thorough). Never touches tasks this executor is running.
   */
  reapOrphans(records: readonly OrphanRecord[] = []): Promise<ReapReport> {
    const mine = new Set([...this.running.keys(), ...this.queue.keys()])
    return reapLeftovers({ executorId: this.id, workRoot: this.workRoot, cgroups: this.cgroups, mine, keepDirs: this.etc.dirNames, log: this.log }, records)
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.options.concurrency && this.queue.size) {
      const job = this.queue.shift()!
      this.running.set(job.spec.taskGuid, job)
      const p = this.run(job)
        .catch((err) => this.log.error({ err, task: job.spec.taskGuid }, 'executor failed to run a task'))
        .finally(() => {
          this.finishing.delete(p)
          this.running.delete(job.spec.taskGuid)
          this.pump()
        })
      this.finishing.add(p)
    }
  }

  // ---- one task ------------------------------------------------------------------------------

  /** One task, in its phases: prepare, spawn and release into the cgroup, watch limits, collect the exit. */
  private async run(job: Job): Promise<void> {
    job.t.push(process.hrtime.bigint())
    const prepareError = await prepareTask(this.host, job).then(
      () => undefined,
      (err: unknown) => `could not prepare the task: ${errorText(err)}`,
    )
    if (prepareError !== undefined || job.killReason !== undefined) {
      await this.discard(job)
      // Shut down before it started: like a queued task, it stays PENDING for the next start.
      if (prepareError === undefined && job.killReason === 'shutdown') return
      return this.report(job, neverStarted(prepareError === undefined ? { cancelled: true } : { error: prepareError }))
    }

    job.t.push(process.hrtime.bigint())
    const proc = await spawnTask(this.host, job)
    if ('error' in proc) {
      await this.discard(job)
      return this.report(job, neverStarted({ error: `could not start the task: ${proc.error}` }))
    }
    job.t.push(process.hrtime.bigint())

    const stopWatching = this.watchLimits(job)
    const captures = this.captureOutput(job)
    // Storing RUNNING and moving the process into its cgroups happen side by side; the task's own
    // code runs only after the move, its output flows only after both.
    const guid = job.spec.taskGuid
    await Promise.all([proc.released, guarded(this.log, 'started', guid, () => this.listener.started(guid, { pid: proc.pid, startedAt: proc.startedAt }))])
    captures.forEach((c) => c.release())

    const exit = await this.collectExit(job, proc, captures, stopWatching)
    this.logTimings(job)
    await this.report(job, exit)
    // After the report: removing the cgroup and the copy does not delay it (shutdown awaits both).
    this.removeWorkingCopy(job, true)
  }

  /** The run-time and disk limits, counted from the spawn (not from when RUNNING is stored); returns their stop. */
  private watchLimits(job: Job): () => void {
    const limits = job.spec.limits
    const runTimer = limits.maxRunSeconds > 0 ? setTimeout(() => terminate(job, 'timeout', this.options.cancelGraceMs), limits.maxRunSeconds * 1000) : undefined
    const diskLimit = diskLimitOf(job)
    let diskTimer: NodeJS.Timeout | undefined
    let stopped = false
    if (diskLimit !== null) {
      const poll = async () => {
        const t0 = Date.now()
        const used = await diskUsage(job.taskDir, diskLimit)
        if (stopped) return
        if (used > diskLimit) {
          terminate(job, 'disk', 0)
          return
        }
        // Large trees: never spend more than a fifth of the time walking.
        diskTimer = setTimeout(tick, Math.max(this.diskPollMs, (Date.now() - t0) * 4))
      }
      const tick = () => void poll().catch((err) => this.log.warn({ err, task: job.spec.taskGuid }, 'disk usage poll failed'))
      diskTimer = setTimeout(tick, this.diskPollMs)
    }
    return () => {
      stopped = true
      clearTimeout(runTimer)
      clearTimeout(diskTimer)
      clearTimeout(job.killTimer)
    }
  }

  /** Line readers on stdout and stderr, held back until `started` has been stored (the pipes fill meanwhile). */
  private captureOutput(job: Job): StreamCapture[] {
    const guid = job.spec.taskGuid
    const clock = new TaskClock()
    let listenerFailed = false
    const deliver = (stream: OutputLine['stream']) => (text: string, timestampNs: bigint) => {
      try {
        this.listener.output(guid, { stream, text, timestampNs })
      } catch (err) {
        if (!listenerFailed) this.log.error({ err, task: guid }, 'executor listener output failed (further failures of this task are not logged)')
        listenerFailed = true
      }
    }
    return [
      new StreamCapture(job.child!.stdout!, new LineSplitter(clock, deliver('OUT'), this.maxLineBytes)),
      new StreamCapture(job.child!.stderr!, new LineSplitter(clock, deliver('ERR'), this.maxLineBytes)),
    ]
  }

  /** Waits for the exit, kills what the task left, drains its output and says how it ended. */
  private async collectExit(job: Job, proc: Spawned, captures: readonly StreamCapture[], stopWatching: () => void): Promise<TaskExit> {
    const { code, signal, at: finishedAt, hr } = await proc.exited
    job.done = true
    job.t.push(hr)
    stopWatching()
    // The task's main process is gone: nothing it started may outlive it (as a Diego container).
    killTree(job, 'SIGKILL', true)
    const streamsDone = Promise.all(captures.map((c) => c.done))
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref())
    if ((await Promise.race([streamsDone, timeout])) === 'timeout') {
      // Something we could not find still holds the pipes; stop reading rather than hang.
      this.log.warn({ task: job.spec.taskGuid }, 'task output pipes still open 2 s after exit; closing them')
      killTree(job, 'SIGKILL', true)
      for (const c of captures) c.abort()
    }
    proc.fd3?.destroy()

    job.t.push(process.hrtime.bigint())
    const oomKilled = (job.cgroup?.oomKills() ?? 0) > 0
    const diskLimit = diskLimitOf(job)
    const diskExceeded = job.killReason === 'disk' || (diskLimit !== null && (await diskUsage(job.taskDir, diskLimit)) > diskLimit)
    const reason = job.killReason
    const setupError = proc.setupError.text
    return {
      exitCode: code,
      signal,
      oomKilled,
      timedOut: reason === 'timeout',
      cancelled: reason === 'cancel',
      diskExceeded,
      ...(reason === 'shutdown' ? { shutdown: true } : {}),
      ...(code === 125 && setupError ? { error: `could not start the task: ${setupError.trim()}` } : {}),
      startedAt: proc.startedAt,
      finishedAt,
    }
  }

  private logTimings(job: Job): void {
    const [submitted, dequeued, prepared, spawnedAt, exitSeen, drained] = job.t.map((x) => Number(x) / 1e6) as number[]
    this.log.debug(
      {
        task: job.spec.taskGuid,
        queuedMs: dequeued! - submitted!,
        prepareMs: prepared! - dequeued!,
        spawnMs: spawnedAt! - prepared!,
        runMs: exitSeen! - spawnedAt!,
        drainMs: drained! - exitSeen!,
        checkMs: Number(process.hrtime.bigint()) / 1e6 - drained!,
      },
      'task finished',
    )
  }

  private report(job: Job, exit: TaskExit): Promise<void> {
    const guid = job.spec.taskGuid
    return guarded(this.log, 'exited', guid, () => this.listener.exited(guid, exit))
  }

  /** A task that never ran: its cgroup now, its working copy in the background. */
  private async discard(job: Job): Promise<void> {
    await this.cleanupCgroup(job)
    this.removeWorkingCopy(job)
  }

  private async cleanupCgroup(job: Job): Promise<void> {
    if (!job.cgroup) return
    try {
      await job.cgroup.remove()
    } catch (err) {
      this.log.warn({ err, task: job.spec.taskGuid }, 'could not remove the task cgroup')
    }
  }

  private removeWorkingCopy(job: Job, withCgroup = false): void {
    const p = (withCgroup ? this.cleanupCgroup(job) : Promise.resolve())
      .then(() => fsp.rm(job.taskDir, { recursive: true, force: true, maxRetries: 3 }))
      .catch((err) => this.log.warn({ err, task: job.spec.taskGuid }, 'could not remove the working copy'))
      .finally(() => this.cleanups.delete(p))
    this.cleanups.add(p)
  }
}

function diskLimitOf(job: Job): number | null {
  return job.spec.limits.diskMb > 0 ? job.spec.limits.diskMb * MB : null
}

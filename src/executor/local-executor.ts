// Runs tasks as local child processes: a private working copy of the droplet, an unprivileged
// user, a bubblewrap sandbox where the host allows it, cgroup memory/pids limits, a polled disk
// limit, an optional run-time limit, a FIFO queue in front of a fixed number of slots.
// docs/executor.md describes what each mode isolates and what it does not.
import { type ChildProcess, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { Config } from '../config.ts'
import { type CgroupDriver, type TaskCgroup, detectCgroups } from './cgroups.ts'
import { chownTree, copyTree, diskUsage } from './disk.ts'
import type { Executor, ExecutorInfo, ExecutorListener, OutputLine, TaskExit, TaskSpec } from './executor.ts'
import { LineSplitter, MAX_LINE_BYTES, StreamCapture, TaskClock } from './line-reader.ts'
import { childrenOf, descendants, groupMembers, pidsWithEnv, processGroupOf, signalAll } from './procs.ts'
import { KeyedFifo } from './queue.ts'
import {
  SANDBOX_APP_DIR,
  SANDBOX_TMP_DIR,
  EtcSnapshot,
  type TaskUser,
  type Tools,
  bwrapArgs,
  findTools,
  resolveTaskUser,
  setprivArgs,
  traversableBy,
  wrapperArgs,
} from './sandbox.ts'

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

export interface OrphanRecord {
  readonly taskGuid: string
  /** The pid `started` reported (the task's process group leader). */
  readonly pid: number
}

export interface ReapReport {
  readonly killedPids: number[]
  readonly removedCgroups: number
  readonly removedWorkDirs: string[]
}

type KillReason = 'cancel' | 'timeout' | 'disk' | 'shutdown'

interface Job {
  readonly spec: TaskSpec
  readonly taskDir: string
  child?: ChildProcess
  cgroup?: TaskCgroup
  killReason?: KillReason
  killTimer?: NodeJS.Timeout
  killed: boolean
  startedAt?: Date
  /** Its exit is known (being reported); cancel no longer applies. */
  done: boolean
  /** hrtime (ns) at submit, dequeue, prepared, spawned, exit seen, output drained. */
  readonly t: bigint[]
}

const MARKER = 'CF_LEDGER_TASK_ID'
const MB = 1024 * 1024

/** Overhead processes in a bwrap sandbox that count against pids.max: bwrap itself and the namespace's init. */
const BWRAP_PROCS = 2

export function executorIdOf(workRoot: string): string {
  return crypto.createHash('sha256').update(path.resolve(workRoot)).digest('hex').slice(0, 12)
}

function cgroupParentOf(id: string): string {
  return `cf-ledger-${id}`
}

function cgroupNameOf(taskGuid: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(taskGuid) ? taskGuid : crypto.createHash('sha256').update(taskGuid).digest('hex').slice(0, 32)
}

function taskDirName(taskGuid: string): string {
  return cgroupNameOf(taskGuid)
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
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
  startupReap: ReapReport = { killedPids: [], removedCgroups: 0, removedWorkDirs: [] }
  private readonly queue = new KeyedFifo<Job>()
  private readonly running = new Map<string, Job>()
  private readonly finishing = new Set<Promise<void>>()
  private readonly cleanups = new Set<Promise<void>>()
  private closed = false
  private readonly diskPollMs: number
  private readonly maxLineBytes: number

  private constructor(
    private readonly options: LocalExecutorOptions,
    private readonly listener: ExecutorListener,
    private readonly log: ExecutorLogger,
    private readonly user: TaskUser,
    private readonly tools: Tools,
    private readonly cgroups: CgroupDriver | null,
    private readonly bwrap: { readonly disableUserns: boolean } | null,
    private readonly etc: EtcSnapshot,
  ) {
    this.workRoot = path.resolve(options.workRoot)
    this.id = executorIdOf(this.workRoot)
    this.diskPollMs = options.diskPollMs ?? 250
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES
    this.info = this.describe()
  }

  /** Detects what the host offers, reaps what a previous server left behind, and returns a ready executor. */
  static async create(options: LocalExecutorOptions, listener: ExecutorListener, log: ExecutorLogger): Promise<LocalExecutor> {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('task concurrency must be at least 1')
    const workRoot = path.resolve(options.workRoot)
    const id = executorIdOf(workRoot)
    const user = resolveTaskUser(options.user, log)
    await fsp.mkdir(workRoot, { recursive: true, mode: 0o711 })
    if (user.switched) await fsp.chmod(workRoot, 0o711)
    const tools = findTools()
    if (!tools.setpriv) log.warn({}, 'setpriv (util-linux) not found: plain-process tasks run without no_new_privs and do not die with the server')
    const cgroups = options.cgroups === 'none' ? null : await detectCgroups(cgroupParentOf(id))
    if (options.sandbox !== 'none' && !traversableBy(workRoot, user)) {
      // bwrap resolves the working copy's path as the task user.
      throw new Error(`the task user ${user.name} cannot reach the task work directory ${workRoot}: a parent directory is closed to it (choose another CF_LEDGER_TASK_WORK_DIR)`)
    }
    const etc = new EtcSnapshot(workRoot)
    const bwrap = options.sandbox === 'none' ? null : await probeBwrap(workRoot, user, tools, options, log, etc)
    if (!bwrap && options.sandbox === 'bwrap') throw new Error('bubblewrap is required (sandbox: bwrap) but does not work on this host; see the log')
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

  private describe(): ExecutorInfo {
    const u = this.user
    const cg = this.cgroups
    const memoryLimit = cg?.memory ? cg.version : 'none'
    const pidsLimit = cg?.pids ? cg.version : u.switched ? 'rlimit-nproc' : 'none'
    const nnp = this.bwrap || this.tools.setpriv ? ' and no_new_privs' : ''
    const who = u.switched
      ? `as uid ${u.uid} (${u.name}) with no capabilities${nnp}`
      : `as the server's own user (uid ${u.uid}, ${u.name}; the server is not root, so it cannot switch users)${nnp ? ' with no_new_privs' : ''}`
    const sentences: string[] = []
    if (this.bwrap) {
      sentences.push(
        `bubblewrap ${this.tools.bwrapVersion ?? '(unknown version)'} sandbox, ${who}${u.switched ? '' : ', no capabilities'}`,
        `New user, pid, ipc, uts and cgroup namespaces${this.bwrap.disableUserns ? '; no nested user namespaces' : ''}`,
        this.options.network ? "Network: the host's (not isolated)" : 'Network: none (a private loopback only)',
        `Filesystem: read-only /usr and selected /etc files, private /proc, /dev and /tmp, the working copy read-write at ${SANDBOX_APP_DIR}; / is read-only and nothing else of the host is visible`,
        'Processes: the whole tree dies with the task and with the server (--die-with-parent)',
        'No seccomp filter',
      )
    } else {
      sentences.push(
        `Plain process (no sandbox), ${who}, in its own session and process group, cwd = the working copy`,
        'No namespaces: the task sees the host filesystem (with that user\'s permissions), all host processes and the network',
        `Processes: what is left when the task exits or is cancelled is killed by process group and ${cg ? 'cgroup' : 'marker variable'}${this.tools.setpriv ? '; only the task\'s sh dies with the server, the rest is reaped at the next start' : ''}`,
      )
    }
    sentences.push(
      memoryLimit === 'none'
        ? 'Memory: not limited (no writable memory cgroup)'
        : `Memory: ${memoryLimit} hard limit${cg!.swapLimited ? ' on memory + swap' : ''}, OOM kills reported`,
      pidsLimit === 'none'
        ? 'Process count: not limited (no pids cgroup; RLIMIT_NPROC would count the server itself)'
        : pidsLimit === 'rlimit-nproc'
          ? 'Process count: RLIMIT_NPROC of the task user (shared by all running tasks)'
          : `Process count: ${pidsLimit} pids.max${this.bwrap ? ` (+${BWRAP_PROCS} for bwrap and the namespace init)` : ''}`,
      `Disk: the working copy and tmp are measured every ${this.diskPollMs} ms and the task is killed once over (it can overshoot between polls); RLIMIT_FSIZE caps any single file at the limit`,
    )
    return {
      isolation: sentences.join('. ') + '.',
      memoryLimit,
      pidsLimit,
      diskLimit: 'poll+rlimit-fsize',
      sandbox: this.bwrap ? 'bwrap' : 'none',
      network: this.bwrap ? this.options.network : true,
      user: { uid: u.uid, gid: u.gid, name: u.name },
    }
  }

  submit(spec: TaskSpec): void {
    if (this.closed) throw new Error('the executor is shut down')
    if (this.running.has(spec.taskGuid) || this.queue.has(spec.taskGuid)) throw new Error(`task ${spec.taskGuid} is already submitted`)
    const job: Job = { spec, taskDir: path.join(this.workRoot, taskDirName(spec.taskGuid)), killed: false, done: false, t: [process.hrtime.bigint()] }
    this.queue.push(spec.taskGuid, job)
    this.pump()
  }

  active(): string[] {
    const running = [...this.running.values()].filter((j) => !j.done).map((j) => j.spec.taskGuid)
    return [...running, ...this.queue.keys()]
  }

  async cancel(taskGuid: string): Promise<boolean> {
    const queued = this.queue.remove(taskGuid)
    if (queued) {
      const now = new Date()
      await guarded(this.log, 'exited', taskGuid, () =>
        this.listener.exited(taskGuid, {
          exitCode: null,
          signal: null,
          oomKilled: false,
          timedOut: false,
          cancelled: true,
          diskExceeded: false,
          startedAt: now,
          finishedAt: now,
        }),
      )
      return true
    }
    const job = this.running.get(taskGuid)
    if (!job || job.done) return false
    this.terminate(job, 'cancel', this.options.cancelGraceMs)
    return true
  }

  async shutdown(): Promise<void> {
    this.closed = true
    const dropped = this.queue.drain()
    if (dropped.length) this.log.info({ tasks: dropped.map((j) => j.spec.taskGuid) }, 'executor shutting down; queued tasks were not started')
    for (const job of this.running.values()) {
      this.terminate(job, 'shutdown', this.options.cancelGraceMs)
    }
    while (this.finishing.size) await Promise.all([...this.finishing])
    await Promise.all([...this.cleanups])
    this.etc.remove()
    await this.cgroups?.dispose()
    // Leave no empty work root behind (test servers make many); a non-empty one stays.
    await fsp.rmdir(this.workRoot).catch(() => {})
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

  private async prepare(job: Job): Promise<void> {
    const { spec, taskDir } = job
    const { uid, gid, switched } = this.user
    const owner = switched ? { uid, gid } : null
    if (fs.existsSync(taskDir)) await fsp.rm(taskDir, { recursive: true, force: true })
    // A handful of tiny calls: synchronous is cheaper than a thread-pool round trip each.
    fs.mkdirSync(taskDir, { mode: 0o700 })
    fs.mkdirSync(path.join(taskDir, 'tmp'), { mode: 0o700 })
    if (owner) {
      fs.chownSync(taskDir, uid, gid)
      fs.chownSync(path.join(taskDir, 'tmp'), uid, gid)
    }
    const l = spec.limits
    const limits = {
      memoryBytes: l.memoryMb > 0 ? Math.floor(l.memoryMb * MB) : null,
      pids: l.pids > 0 ? l.pids + (this.bwrap ? BWRAP_PROCS : 0) : null,
    }
    // Side by side; a cgroup made for a copy that failed is removed by the caller.
    const [copied, group] = await Promise.allSettled([
      copyTree(spec.dropletDir, path.join(taskDir, 'app'), owner),
      this.cgroups ? this.cgroups.create(cgroupNameOf(spec.taskGuid), limits) : Promise.resolve(undefined),
    ])
    if (group.status === 'fulfilled') job.cgroup = group.value
    if (copied.status === 'rejected') throw copied.reason
    if (group.status === 'rejected') throw group.reason
  }

  private launchArgs(job: Job): { file: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
    const { spec, taskDir } = job
    const appDir = path.join(taskDir, 'app')
    const tmpDir = path.join(taskDir, 'tmp')
    const l = spec.limits
    const env: NodeJS.ProcessEnv = { ...spec.env, [MARKER]: `${this.id}:${spec.taskGuid}` }
    let exec: string[]
    const setpriv = this.tools.setpriv
    if (this.bwrap) {
      env.HOME ??= SANDBOX_APP_DIR
      env.TMPDIR ??= SANDBOX_TMP_DIR
      const sandbox = [
        this.tools.bwrap!,
        ...bwrapArgs({
          etcDir: this.etc.path(),
          appDir,
          tmpDir,
          hostname: spec.taskGuid,
          network: this.options.network,
          disableUserns: this.bwrap.disableUserns,
        }),
        this.tools.sh,
        '-c',
        spec.command,
      ]
      // bwrap sets no_new_privs itself and dies with its parent: no setpriv needed (one exec less).
      exec = sandbox
    } else {
      // No sandbox: CF's paths do not exist, so HOME/TMPDIR point at the real working copy.
      for (const [k, sandboxPath, real] of [
        ['HOME', SANDBOX_APP_DIR, appDir],
        ['TMPDIR', SANDBOX_TMP_DIR, tmpDir],
      ] as const) {
        if (env[k] === undefined || env[k] === sandboxPath) env[k] = real
      }
      const task = [this.tools.sh, '-c', spec.command]
      exec = setpriv ? [...setprivArgs(setpriv, true), ...task] : task
    }
    const nproc = !this.cgroups?.pids && this.user.switched && l.pids > 0 ? l.pids + (this.bwrap ? BWRAP_PROCS : 0) : null
    const args = wrapperArgs({
      fileSizeBytes: l.diskMb > 0 ? Math.floor(l.diskMb * MB) : null,
      nproc,
      exec,
    })
    return { file: this.tools.sh, args, cwd: appDir, env }
  }

  private async run(job: Job): Promise<void> {
    const { spec } = job
    const guid = spec.taskGuid
    let error: string | undefined
    job.t.push(process.hrtime.bigint())
    try {
      await this.prepare(job)
    } catch (err) {
      error = `could not prepare the task: ${errorText(err)}`
    }
    if (error !== undefined || job.killReason !== undefined) {
      await this.cleanupCgroup(job)
      this.removeWorkingCopy(job)
      // Shut down before it started: like a queued task, it stays PENDING for the next start.
      if (error === undefined && job.killReason === 'shutdown') return
      const now = new Date()
      await guarded(this.log, 'exited', guid, () =>
        this.listener.exited(guid, {
          exitCode: null,
          signal: null,
          oomKilled: false,
          timedOut: false,
          cancelled: error === undefined,
          diskExceeded: false,
          ...(error !== undefined ? { error } : {}),
          startedAt: now,
          finishedAt: now,
        }),
      )
      return
    }

    job.t.push(process.hrtime.bigint())
    const launch = this.launchArgs(job)
    // Started as the task user directly (libuv drops supplementary groups, then gid, then uid,
    // after chdir and before exec): no root process runs with the task's environment.
    const child = spawn(launch.file, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
      ...(this.user.switched ? { uid: this.user.uid, gid: this.user.gid } : {}),
    })
    job.child = child
    // The wrapper waits on stdin: move it into the task's cgroups, then let it go. Off the main
    // thread: on cgroup v1 a move waits for an RCU grace period (often ~10 ms on this host).
    child.stdin?.on('error', () => {})
    const released = child.pid === undefined ? Promise.resolve() : this.release(job, child)
    const exitP = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: Date; hr: bigint }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, at: new Date(), hr: process.hrtime.bigint() }))
    })
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null))
      child.once('error', (err) => resolve(err))
    })
    let setupError = ''
    const fd3 = child.stdio[3] as Readable | null
    fd3?.on('data', (c: Buffer) => {
      if (setupError.length < 4096) setupError += c.toString()
    })
    if (spawned) {
      child.stdout?.destroy()
      child.stderr?.destroy()
      fd3?.destroy()
      await this.cleanupCgroup(job)
      this.removeWorkingCopy(job)
      const now = new Date()
      await guarded(this.log, 'exited', guid, () =>
        this.listener.exited(guid, {
          exitCode: null,
          signal: null,
          oomKilled: false,
          timedOut: false,
          cancelled: false,
          diskExceeded: false,
          error: `could not start the task: ${spawned.message}`,
          startedAt: now,
          finishedAt: now,
        }),
      )
      return
    }

    const startedAt = new Date()
    job.startedAt = startedAt
    const pid = child.pid!
    job.t.push(process.hrtime.bigint())

    // Limits count from the spawn, not from when the store has recorded RUNNING.
    const limits = spec.limits
    const runTimer = limits.maxRunSeconds > 0 ? setTimeout(() => this.terminate(job, 'timeout', this.options.cancelGraceMs), limits.maxRunSeconds * 1000) : undefined
    const diskLimit = limits.diskMb > 0 ? limits.diskMb * MB : null
    let diskTimer: NodeJS.Timeout | undefined
    let exitedYet = false
    if (diskLimit !== null) {
      const poll = async () => {
        const t0 = Date.now()
        const used = await diskUsage(job.taskDir, diskLimit)
        if (exitedYet) return
        if (used > diskLimit) {
          this.terminate(job, 'disk', 0)
          return
        }
        // Large trees: never spend more than a fifth of the time walking.
        diskTimer = setTimeout(tick, Math.max(this.diskPollMs, (Date.now() - t0) * 4))
      }
      const tick = () => void poll().catch((err) => this.log.warn({ err, task: guid }, 'disk usage poll failed'))
      diskTimer = setTimeout(tick, this.diskPollMs)
    }

    // Output is held back until `started` has been stored; until then the pipes fill up and the
    // task blocks on its writes.
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
    const captures = [
      new StreamCapture(child.stdout!, new LineSplitter(clock, deliver('OUT'), this.maxLineBytes)),
      new StreamCapture(child.stderr!, new LineSplitter(clock, deliver('ERR'), this.maxLineBytes)),
    ]

    // Storing RUNNING and moving the process into its cgroups happen side by side; the task's own
    // code runs only after the move, its output flows only after both.
    await Promise.all([released, guarded(this.log, 'started', guid, () => this.listener.started(guid, { pid, startedAt }))])

    captures.forEach((c) => c.release())

    const { code, signal, at: finishedAt, hr } = await exitP
    job.done = true
    job.t.push(hr)
    exitedYet = true
    clearTimeout(runTimer)
    clearTimeout(diskTimer)
    clearTimeout(job.killTimer)
    // The task's main process is gone: nothing it started may outlive it (as a Diego container).
    this.killTree(job, 'SIGKILL', true)
    const streamsDone = Promise.all(captures.map((c) => c.done))
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref())
    if ((await Promise.race([streamsDone, timeout])) === 'timeout') {
      // Something we could not find still holds the pipes; stop reading rather than hang.
      this.log.warn({ task: guid }, 'task output pipes still open 2 s after exit; closing them')
      this.killTree(job, 'SIGKILL', true)
      for (const c of captures) c.abort()
    }
    fd3?.destroy()

    job.t.push(process.hrtime.bigint())
    const oomKilled = (job.cgroup?.oomKills() ?? 0) > 0
    let diskExceeded = job.killReason === 'disk'
    if (!diskExceeded && diskLimit !== null && (await diskUsage(job.taskDir, diskLimit)) > diskLimit) diskExceeded = true

    const reason = job.killReason
    const exit: TaskExit = {
      exitCode: code,
      signal,
      oomKilled,
      timedOut: reason === 'timeout',
      cancelled: reason === 'cancel',
      diskExceeded,
      ...(reason === 'shutdown' ? { shutdown: true } : {}),
      ...(code === 125 && setupError ? { error: `could not start the task: ${setupError.trim()}` } : {}),
      startedAt,
      finishedAt,
    }
    const [submitted, dequeued, prepared, spawnedAt, exitSeen, drained] = job.t.map((x) => Number(x) / 1e6) as number[]
    this.log.debug(
      {
        task: guid,
        queuedMs: dequeued! - submitted!,
        prepareMs: prepared! - dequeued!,
        spawnMs: spawnedAt! - prepared!,
        runMs: exitSeen! - spawnedAt!,
        drainMs: drained! - exitSeen!,
        checkMs: Number(process.hrtime.bigint()) / 1e6 - drained!,
      },
      'task finished',
    )
    await guarded(this.log, 'exited', guid, () => this.listener.exited(guid, exit))
    // After the report: removing the cgroup and the copy does not delay it (shutdown awaits both).
    this.removeWorkingCopy(job, true)
  }

  /** Moves the waiting wrapper into the task's cgroups, then tells it to go (or why not). */
  private async release(job: Job, child: ChildProcess): Promise<void> {
    let joinError: string | null = null
    for (const f of job.cgroup?.procsFiles ?? []) {
      try {
        await fsp.writeFile(f, String(child.pid))
      } catch (err) {
        joinError = `cannot join cgroup ${f}: ${errorText(err)}`
        break
      }
    }
    child.stdin?.end(joinError === null ? 'go\n' : `${joinError.replace(/\n/g, ' ')}\n`)
  }

  /**
   * Stops a running task: SIGTERM to the task's processes, SIGKILL to everything after `graceMs`
   * (0 = at once). The first reason wins.
   */
  private terminate(job: Job, reason: KillReason, graceMs: number): void {
    job.killReason ??= reason
    if (!job.child || job.child.exitCode !== null || job.child.signalCode !== null) return
    if (graceMs <= 0 || job.killed) {
      clearTimeout(job.killTimer)
      this.killTree(job, 'SIGKILL', false)
      return
    }
    if (job.killTimer) return
    this.killTree(job, 'SIGTERM', false)
    job.killTimer = setTimeout(() => this.killTree(job, 'SIGKILL', false), graceMs)
  }

  /**
   * Signals every process of the task. SIGTERM goes to the task's own processes only (not to
   * bwrap, whose death would SIGKILL the sandbox at once); SIGKILL goes to everything, bwrap first,
   * which tears down the pid namespace.
   */
  private killTree(job: Job, sig: 'SIGTERM' | 'SIGKILL', afterExit: boolean): void {
    const child = job.child
    if (!child?.pid) return
    const pid = child.pid
    if (sig === 'SIGKILL') job.killed = true
    if (this.bwrap) {
      if (sig === 'SIGKILL') {
        if (!afterExit) signalAll([pid], 'SIGKILL')
        job.cgroup?.signal('SIGKILL')
        return
      }
      const helpers = new Set([pid, ...childrenOf(pid)])
      const targets = job.cgroup ? job.cgroup.pids() : descendants(pid)
      signalAll(
        targets.filter((p) => !helpers.has(p)),
        'SIGTERM',
      )
      return
    }
    // Plain process: the group leader's process group, its descendants, the cgroup, and, with no
    // cgroup, anything still carrying the task's marker variable (double-forked daemons).
    try {
      process.kill(-pid, sig)
    } catch {
      // group empty
    }
    if (!afterExit) signalAll([pid, ...descendants(pid)], sig)
    if (job.cgroup) {
      job.cgroup.signal(sig)
    } else if (sig === 'SIGKILL') {
      signalAll(pidsWithEnv(`${MARKER}=${this.id}:${job.spec.taskGuid}`), 'SIGKILL')
    }
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

  /**
   * Kills processes and removes cgroups and working copies a previous server on the same work root
   * left behind (it runs at `create`; call it again with the pids your store recorded to be
   * thorough). Never touches tasks this executor is running.
   */
  async reapOrphans(records: readonly OrphanRecord[] = []): Promise<ReapReport> {
    const mine = new Set([...this.running.keys(), ...this.queue.keys()])
    const killed = new Set<number>()
    let removedCgroups = 0
    if (this.cgroups) {
      for (const group of this.cgroups.leftovers()) {
        const name = path.basename(group.procsFiles[0] ? path.dirname(group.procsFiles[0]) : '')
        if ([...mine].some((g) => cgroupNameOf(g) === name)) continue
        for (const p of group.pids()) killed.add(p)
        try {
          await group.remove()
          removedCgroups++
        } catch (err) {
          this.log.warn({ err, cgroup: name }, 'could not remove a leftover task cgroup')
        }
      }
    }
    const prefix = `${MARKER}=${this.id}:`
    for (const p of pidsWithEnv(prefix)) {
      const guid = readMarker(p, prefix)
      if (guid !== null && mine.has(guid)) continue
      if (signalAll([p], 'SIGKILL')) killed.add(p)
    }
    for (const r of records) {
      if (mine.has(r.taskGuid) || !Number.isInteger(r.pid) || r.pid <= 1) continue
      // Only a group whose leader still looks like that task (its marker or its working copy):
      // the pid may have been reused by an unrelated process since.
      if (processGroupOf(r.pid) !== r.pid || !looksLikeTask(r.pid, prefix + r.taskGuid, path.join(this.workRoot, taskDirName(r.taskGuid)))) continue
      for (const p of groupMembers(r.pid)) if (signalAll([p], 'SIGKILL')) killed.add(p)
    }
    const removedWorkDirs: string[] = []
    let entries: string[] = []
    try {
      entries = await fsp.readdir(this.workRoot)
    } catch {
      // no work root yet
    }
    const mineDirs = new Set([...[...mine].map(taskDirName), ...this.etc.dirNames])
    for (const e of entries) {
      if (mineDirs.has(e)) continue
      await fsp.rm(path.join(this.workRoot, e), { recursive: true, force: true, maxRetries: 3 }).catch(() => {})
      removedWorkDirs.push(e)
    }
    return { killedPids: [...killed], removedCgroups, removedWorkDirs }
  }
}

function readMarker(pid: number, prefix: string): string | null {
  try {
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    const v = env.find((e) => e.startsWith(prefix))
    return v ? v.slice(prefix.length) : null
  } catch {
    return null
  }
}

function looksLikeTask(pid: number, marker: string, taskDir: string): boolean {
  try {
    if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) return true
  } catch {
    // unreadable
  }
  try {
    const cwd = fs.readlinkSync(`/proc/${pid}/cwd`)
    return cwd === taskDir || cwd.startsWith(taskDir + path.sep)
  } catch {
    return false
  }
}

/** Runs `true` in the real sandbox as the task user; null when bwrap is missing or fails here. */
async function probeBwrap(
  workRoot: string,
  user: TaskUser,
  tools: Tools,
  options: LocalExecutorOptions,
  log: ExecutorLogger,
  etc: EtcSnapshot,
): Promise<{ disableUserns: boolean } | null> {
  if (!tools.bwrap) {
    log.warn({}, 'bubblewrap (bwrap) not found: tasks run without a sandbox')
    return null
  }
  const dir = path.join(workRoot, `.probe-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
  try {
    await fsp.mkdir(path.join(dir, 'app'), { recursive: true, mode: 0o700 })
    await fsp.mkdir(path.join(dir, 'tmp'), { mode: 0o700 })
    if (user.switched) await chownTree(dir, user.uid, user.gid)
    let lastError = ''
    for (const disableUserns of [true, false]) {
      const sandbox = [
        tools.bwrap,
        ...bwrapArgs({
          etcDir: etc.path(),
          appDir: path.join(dir, 'app'),
          tmpDir: path.join(dir, 'tmp'),
          hostname: 'probe',
          network: options.network,
          disableUserns,
        }),
        tools.sh,
        '-c',
        `test "$(pwd)" = ${SANDBOX_APP_DIR} && touch ok && test -w /tmp && test -r /etc/passwd`,
      ]
      const argv = sandbox
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawn(argv[0]!, argv.slice(1), {
          stdio: ['ignore', 'ignore', 'pipe'],
          cwd: dir,
          env: { PATH: '/usr/bin:/bin' },
          ...(user.switched ? { uid: user.uid, gid: user.gid } : {}),
        })
        let stderr = ''
        c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
        c.on('error', (err) => resolve({ code: null, stderr: err.message }))
        c.on('close', (code) => resolve({ code, stderr }))
      })
      if (r.code === 0 && fs.existsSync(path.join(dir, 'app', 'ok'))) return { disableUserns }
      lastError = r.stderr.trim() || `exit ${r.code}`
    }
    log.warn({ error: lastError }, 'bubblewrap does not work here: tasks run without a sandbox')
    return null
  } finally {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}

/** `<dataDir>/tasks` when the task user can reach it, else a directory under the system temp dir. */
export function defaultWorkRoot(dataDir: string, userName: string | undefined): string {
  const preferred = path.join(dataDir, 'tasks')
  if (process.getuid?.() !== 0) return preferred
  let user: TaskUser
  try {
    user = resolveTaskUser(userName, { info: () => {}, warn: () => {} })
  } catch {
    return preferred
  }
  const parent = fs.existsSync(dataDir) ? dataDir : path.dirname(dataDir)
  if (traversableBy(parent, user)) return preferred
  const hash = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)
  return path.join(os.tmpdir(), `cf-ledger-tasks-${hash}`)
}

/** The server's executor, from its configuration. */
export async function createLocalExecutor(config: Config, listener: ExecutorListener, logger: ExecutorLogger): Promise<LocalExecutor> {
  return LocalExecutor.create(
    {
      workRoot: config.taskWorkDir ?? defaultWorkRoot(config.dataDir, config.taskUser),
      concurrency: config.taskConcurrency,
      cancelGraceMs: config.taskCancelGraceMs,
      network: config.taskNetwork,
      user: config.taskUser,
      sandbox: config.taskSandbox,
    },
    listener,
    logger,
  )
}

/**
 * Crash recovery without a running executor: kills what a server on `workRoot` left behind.
 * `LocalExecutor.create` does this itself; this is for tools and tests.
 */
export async function reapOrphans(workRoot: string, records: readonly OrphanRecord[] = [], logger?: ExecutorLogger): Promise<ReapReport> {
  const silent: ExecutorLogger = { debug() {}, info() {}, warn() {}, error() {} }
  const ex = await LocalExecutor.create(
    { workRoot, concurrency: 1, cancelGraceMs: 0, network: true, sandbox: 'none' },
    { started: async () => {}, output: () => {}, exited: async () => {} },
    logger ?? silent,
  )
  const more = await ex.reapOrphans(records)
  const first = ex.startupReap
  return {
    killedPids: [...new Set([...first.killedPids, ...more.killedPids])],
    removedCgroups: first.removedCgroups + more.removedCgroups,
    removedWorkDirs: [...first.removedWorkDirs, ...more.removedWorkDirs],
  }
}

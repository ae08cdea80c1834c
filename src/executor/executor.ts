// The task executor's contract. The tasks use case talks only to this interface, so another
// backend (a remote worker pool, Kubernetes Jobs) can replace the local one.

export interface TaskLimits {
  readonly memoryMb: number
  readonly diskMb: number
  /** Maximum number of processes/threads in the task's tree. */
  readonly pids: number
  /** Wall-clock limit in seconds; 0 = none (CF has none). */
  readonly maxRunSeconds: number
}

export interface TaskSpec {
  readonly taskGuid: string
  /** Run as `sh -c <command>`. */
  readonly command: string
  /** The droplet's files; the executor runs the task in a private copy of this directory. */
  readonly dropletDir: string
  readonly env: Readonly<Record<string, string>>
  readonly limits: TaskLimits
}

export interface OutputLine {
  readonly stream: 'OUT' | 'ERR'
  /** One line without its trailing newline (bytes as UTF-8 text). */
  readonly text: string
  /** Nanoseconds since the epoch when the line was read. */
  readonly timestampNs: bigint
}

export interface TaskExit {
  /**
   * Exit status of `sh`, or null when killed by a signal. A sandbox that reports a signal death as
   * 128 + N (bubblewrap, like Garden) gives that number here with `signal` null.
   */
  readonly exitCode: number | null
  readonly signal: string | null
  readonly oomKilled: boolean
  readonly timedOut: boolean
  readonly cancelled: boolean
  readonly diskExceeded: boolean
  /** Killed because the executor shut down (not a user cancel). */
  readonly shutdown?: boolean
  /**
   * The executor could not run the task (working copy, cgroup or spawn failure). The task's command
   * did not run, or not to its end; `exitCode` and `signal` are null unless the process had started.
   */
  readonly error?: string
  /** When `started` was reported; equal to `finishedAt` if the task never started. */
  readonly startedAt: Date
  readonly finishedAt: Date
}

/**
 * Callbacks from the executor. `started` and `exited` are awaited: the caller commits the state
 * change before the executor moves on, so nothing is reported before it is stored.
 */
export interface ExecutorListener {
  started(taskGuid: string, info: { readonly pid: number; readonly startedAt: Date }): Promise<void>
  output(taskGuid: string, line: OutputLine): void
  exited(taskGuid: string, exit: TaskExit): Promise<void>
}

export interface ExecutorInfo {
  /** How tasks are isolated in this mode, for docs and the trail record. */
  readonly isolation: string
  readonly memoryLimit: 'cgroup-v2' | 'cgroup-v1' | 'none'
  /** The fields below are optional so other backends can leave out what they cannot know. */
  readonly pidsLimit?: 'cgroup-v2' | 'cgroup-v1' | 'rlimit-nproc' | 'none'
  /** How `diskMb` is enforced, e.g. 'poll+rlimit-fsize'. */
  readonly diskLimit?: string
  readonly sandbox?: 'bwrap' | 'none'
  /** Whether tasks can use the host's network. */
  readonly network?: boolean
  /** The user tasks run as (host uid/gid). */
  readonly user?: { readonly uid: number; readonly gid: number; readonly name: string }
}

export interface Executor {
  readonly info: ExecutorInfo
  /** Queues a task; it starts when a slot is free, in submission order. */
  submit(spec: TaskSpec): void
  /** Kills the task's whole process tree (or drops it from the queue); false if unknown. */
  cancel(taskGuid: string): Promise<boolean>
  /** Task guids queued or running right now. */
  active(): string[]
  /**
   * Stops accepting work and kills running tasks (SIGTERM, then SIGKILL after the grace period),
   * awaiting their `exited` callbacks (with `shutdown: true`). Queued tasks are dropped without a
   * callback: they never started, so they are still PENDING for the next start to resubmit.
   */
  shutdown(): Promise<void>
}

/** The report for a task whose command never ran: cancelled before it started, or not startable. */
export function neverStarted(why: { readonly cancelled: true } | { readonly error: string }, at: Date = new Date()): TaskExit {
  return {
    exitCode: null,
    signal: null,
    oomKilled: false,
    timedOut: false,
    cancelled: 'cancelled' in why,
    diskExceeded: false,
    ...('error' in why ? { error: why.error } : {}),
    startedAt: at,
    finishedAt: at,
  }
}

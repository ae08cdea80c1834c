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
  /** Exit status of `sh`, or null when killed by a signal. */
  readonly exitCode: number | null
  readonly signal: string | null
  readonly oomKilled: boolean
  readonly timedOut: boolean
  readonly cancelled: boolean
  readonly diskExceeded: boolean
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
}

export interface Executor {
  readonly info: ExecutorInfo
  /** Queues a task; it starts when a slot is free, in submission order. */
  submit(spec: TaskSpec): void
  /** Kills the task's whole process tree (or drops it from the queue); false if unknown. */
  cancel(taskGuid: string): Promise<boolean>
  /** Task guids queued or running right now. */
  active(): string[]
  /** Stops accepting work and kills running tasks. */
  shutdown(): Promise<void>
}

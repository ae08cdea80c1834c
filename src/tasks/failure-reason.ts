import os from 'node:os'
import type { TaskExit } from '../executor/executor.ts'

/** CF's reason when the platform lost track of a task (CC TasksSync). */
export const UNKNOWN_COMPLETION = 'Unable to determine completion status'
export const CANCELLED = 'task was cancelled'
/** CC's reason when a task could not be handed to Diego; here: the executor could not start it. */
export const NOT_STARTED = 'Unable to request task to be run'
/** Ours (docs/tasks.md): the server stopped and killed the task. */
export const SERVER_STOPPED = 'Task stopped because the server shut down'

/** Exit status as Diego reports it: a signal death is 128 + the signal number. */
export function exitStatusOf(exit: Pick<TaskExit, 'exitCode' | 'signal'>): number {
  if (exit.exitCode !== null) return exit.exitCode
  const signum = exit.signal ? (os.constants.signals as Record<string, number>)[exit.signal] : undefined
  return 128 + (signum ?? 9)
}

/** The task's `exit_status`: null when its command never ran (not startable, or cancelled before it started). */
export function taskExitStatus(exit: TaskExit): number | null {
  if (exit.error || (exit.exitCode === null && exit.signal === null)) return null
  return exitStatusOf(exit)
}

/**
 * `result.failure_reason` for a finished task, in Diego's words (`APP/TASK/<name>: Exited with
 * status N`, ` (out of memory)`, `task was cancelled`). Time-out and disk reasons are ours (docs/tasks.md).
 */
export function failureReasonOf(taskName: string, exit: TaskExit, maxRunSeconds: number, diskMb: number): string | null {
  if (exit.error) return NOT_STARTED
  if (exit.shutdown) return SERVER_STOPPED
  if (exit.cancelled) return CANCELLED
  const source = `APP/TASK/${taskName}`
  if (exit.timedOut) return `${source}: Exceeded maximum run time of ${maxRunSeconds} seconds`
  if (exit.diskExceeded) return `${source}: Exceeded disk limit of ${diskMb} MB`
  const status = exitStatusOf(exit)
  if (status === 0 && !exit.oomKilled) return null
  return `${source}: Exited with status ${status}${exit.oomKilled ? ' (out of memory)' : ''}`
}

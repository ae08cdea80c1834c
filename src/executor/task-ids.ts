// The names one executor gives a task on the host: its marker variable, its cgroup and its working
// copy. They derive from the work root, so a restarted server on the same root finds what it left.
import crypto from 'node:crypto'
import path from 'node:path'

/** Environment variable every task process carries: `<executor id>:<task guid>`. */
export const MARKER = 'CF_LEDGER_TASK_ID'

export function executorIdOf(workRoot: string): string {
  return crypto.createHash('sha256').update(path.resolve(workRoot)).digest('hex').slice(0, 12)
}

/** The parent cgroup of one executor's task groups. */
export function cgroupParentOf(executorId: string): string {
  return `cf-ledger-${executorId}`
}

/** A task's cgroup name, which is also its working copy's directory name under the work root. */
export function taskDirName(taskGuid: string): string {
  return /^[A-Za-z0-9_-]{1,100}$/.test(taskGuid) ? taskGuid : crypto.createHash('sha256').update(taskGuid).digest('hex').slice(0, 32)
}

/** `CF_LEDGER_TASK_ID=<id>:` — the start of every marker this executor sets. */
export function markerPrefix(executorId: string): string {
  return `${MARKER}=${executorId}:`
}

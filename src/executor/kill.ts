// Stopping a task's process tree: SIGTERM to the task's own processes, then SIGKILL to everything,
// found through its cgroup, its process group and, with neither, its marker variable (procs.ts).
import type { ChildProcess } from 'node:child_process'
import type { TaskCgroup } from './cgroups.ts'
import { childrenOf, descendants, pidsWithEnv, signalAll } from './procs.ts'

export type KillReason = 'cancel' | 'timeout' | 'disk' | 'shutdown'

/** The part of a running task that killing it reads and writes. */
export interface KillTarget {
  child?: ChildProcess
  cgroup?: TaskCgroup
  /** Why it is being stopped; the first reason wins. */
  killReason?: KillReason
  killTimer?: NodeJS.Timeout
  /** SIGKILL has been sent. */
  killed: boolean
  /** `CF_LEDGER_TASK_ID=<executor>:<task>`, carried by every process of the task. */
  readonly marker: string
  /** Runs inside bubblewrap (its death tears down the sandbox's pid namespace). */
  readonly sandboxed: boolean
}

/**
 * Stops a running task: SIGTERM to the task's processes, SIGKILL to everything after `graceMs`
 * (0 = at once). The first reason wins.
 */
export function terminate(job: KillTarget, reason: KillReason, graceMs: number): void {
  job.killReason ??= reason
  if (!job.child || job.child.exitCode !== null || job.child.signalCode !== null) return
  if (graceMs <= 0 || job.killed) {
    clearTimeout(job.killTimer)
    killTree(job, 'SIGKILL', false)
    return
  }
  if (job.killTimer) return
  killTree(job, 'SIGTERM', false)
  job.killTimer = setTimeout(() => killTree(job, 'SIGKILL', false), graceMs)
}

/**
 * Signals every process of the task. SIGTERM goes to the task's own processes only (not to
 * bwrap, whose death would SIGKILL the sandbox at once); SIGKILL goes to everything, bwrap first,
 * which tears down the pid namespace. `afterExit`: the main process is gone, spare its pid.
 */
export function killTree(job: KillTarget, sig: 'SIGTERM' | 'SIGKILL', afterExit: boolean): void {
  const pid = job.child?.pid
  if (!pid) return
  if (sig === 'SIGKILL') job.killed = true
  if (job.sandboxed) {
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
    signalAll(pidsWithEnv(job.marker), 'SIGKILL')
  }
}

// Finding a task's processes through /proc when no cgroup holds them.
import fs from 'node:fs'

/** Direct children of `pid` (all its threads' children). */
export function childrenOf(pid: number): number[] {
  const out: number[] = []
  let tids: string[]
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (c) out.push(Number(c))
      }
    } catch {
      // thread gone
    }
  }
  return out
}

/** Every descendant of `pid` (not `pid` itself), breadth first; bounded. */
export function descendants(pid: number, max = 100_000): number[] {
  const out: number[] = []
  const queue = [pid]
  const seen = new Set<number>([pid])
  while (queue.length && out.length < max) {
    for (const c of childrenOf(queue.shift()!)) {
      if (seen.has(c)) continue
      seen.add(c)
      out.push(c)
      queue.push(c)
    }
  }
  return out
}

function numericDirs(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
  } catch {
    return []
  }
}

/**
 * Pids whose environment holds a variable starting with `prefix` (e.g. `CF_LEDGER_TASK_ID=abc:`).
 * Needs read access to /proc/PID/environ (root, or the same user).
 */
export function pidsWithEnv(prefix: string): number[] {
  const needle = Buffer.from(`\0${prefix}`)
  const head = Buffer.from(prefix)
  const out: number[] = []
  for (const pid of numericDirs()) {
    if (pid === process.pid) continue
    let env: Buffer
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`)
    } catch {
      continue
    }
    if (env.indexOf(needle) !== -1 || env.subarray(0, head.length).equals(head)) out.push(pid)
  }
  return out
}

/** The process group of `pid`, or null when it is gone. */
export function processGroupOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[2])
  } catch {
    return null
  }
}

/** Pids in process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return numericDirs().filter((p) => processGroupOf(p) === pgid)
}

export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): number {
  let n = 0
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
      n++
    } catch {
      // gone
    }
  }
  return n
}

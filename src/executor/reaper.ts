// Crash recovery: kills the processes and removes the cgroups and working copies that a previous
// server on the same work root left behind, never touching the tasks this executor runs.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { CgroupDriver } from './cgroups.ts'
import { groupMembers, pidsWithEnv, processGroupOf, signalAll } from './procs.ts'
import { markerPrefix, taskDirName } from './task-ids.ts'

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

export const NOTHING_REAPED: ReapReport = { killedPids: [], removedCgroups: 0, removedWorkDirs: [] }

export interface ReapScope {
  readonly executorId: string
  readonly workRoot: string
  readonly cgroups: CgroupDriver | null
  /** Task guids this executor runs or queues: left alone. */
  readonly mine: ReadonlySet<string>
  /** Directories under the work root that are not task copies (the /etc snapshot). */
  readonly keepDirs: Iterable<string>
  readonly log: { warn(obj: object, msg: string): void }
}

/** One pass: leftover cgroups, marked processes, recorded process groups, then working copies. */
export async function reapLeftovers(scope: ReapScope, records: readonly OrphanRecord[] = []): Promise<ReapReport> {
  const { mine } = scope
  const killed = new Set<number>()
  let removedCgroups = 0
  const mineNames = new Set([...mine].map(taskDirName))
  for (const group of scope.cgroups?.leftovers() ?? []) {
    const name = path.basename(group.procsFiles[0] ? path.dirname(group.procsFiles[0]) : '')
    if (mineNames.has(name)) continue
    for (const p of group.pids()) killed.add(p)
    try {
      await group.remove()
      removedCgroups++
    } catch (err) {
      scope.log.warn({ err, cgroup: name }, 'could not remove a leftover task cgroup')
    }
  }
  const prefix = markerPrefix(scope.executorId)
  for (const p of pidsWithEnv(prefix)) {
    const guid = readMarker(p, prefix)
    if (guid !== null && mine.has(guid)) continue
    if (signalAll([p], 'SIGKILL')) killed.add(p)
  }
  for (const r of records) {
    if (mine.has(r.taskGuid) || !Number.isInteger(r.pid) || r.pid <= 1) continue
    // Only a group whose leader still looks like that task (its marker or its working copy):
    // the pid may have been reused by an unrelated process since.
    if (processGroupOf(r.pid) !== r.pid || !looksLikeTask(r.pid, prefix + r.taskGuid, path.join(scope.workRoot, taskDirName(r.taskGuid)))) continue
    for (const p of groupMembers(r.pid)) if (signalAll([p], 'SIGKILL')) killed.add(p)
  }
  const removedWorkDirs: string[] = []
  let entries: string[] = []
  try {
    entries = await fsp.readdir(scope.workRoot)
  } catch {
    // no work root yet
  }
  const keep = new Set([...mineNames, ...scope.keepDirs])
  for (const e of entries) {
    if (keep.has(e)) continue
    await fsp.rm(path.join(scope.workRoot, e), { recursive: true, force: true, maxRetries: 3 }).catch(() => {})
    removedWorkDirs.push(e)
  }
  return { killedPids: [...killed], removedCgroups, removedWorkDirs }
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

// One task's process on the host: its working copy and cgroup, its command line, and its spawn
// as the task user, released into the cgroup before its own code runs.
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { CgroupDriver, TaskCgroup } from './cgroups.ts'
import { copyTree } from './disk.ts'
import type { TaskSpec } from './executor.ts'
import { BWRAP_PROCS, type BwrapMode } from './host.ts'
import { SANDBOX_APP_DIR, SANDBOX_TMP_DIR, type TaskUser, type Tools, bwrapArgs, setprivArgs, wrapperArgs } from './sandbox.ts'
import { MARKER, taskDirName } from './task-ids.ts'

/** What the executor found on the host, as the task's process needs it. */
export interface TaskHost {
  readonly executorId: string
  readonly user: TaskUser
  readonly tools: Tools
  readonly bwrap: BwrapMode | null
  readonly cgroups: CgroupDriver | null
  readonly network: boolean
  /** The /etc snapshot mounted into the sandbox. */
  etcDir(): string
}

/** The task as this file reads and fills it in. */
export interface TaskProcess {
  readonly spec: TaskSpec
  readonly taskDir: string
  cgroup?: TaskCgroup
  child?: ChildProcess
}

/** A spawned task process, between the spawn and its exit. */
export interface Spawned {
  readonly child: ChildProcess
  readonly pid: number
  readonly startedAt: Date
  /** Resolves once the process is in its cgroups and told to go. */
  readonly released: Promise<void>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: Date; hr: bigint }>
  /** fd 3: the wrapper's own errors (rlimits, exec) before the task's command runs. */
  readonly fd3: Readable | null
  readonly setupError: { text: string }
}

const MB = 1024 * 1024

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The working copy (droplet copy and tmp, owned by the task user) and the cgroup with the task's limits. */
export async function prepareTask(host: TaskHost, job: TaskProcess): Promise<void> {
  const { spec, taskDir } = job
  const { uid, gid, switched } = host.user
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
    pids: l.pids > 0 ? l.pids + (host.bwrap ? BWRAP_PROCS : 0) : null,
  }
  // Side by side; a cgroup made for a copy that failed is removed by the caller.
  const [copied, group] = await Promise.allSettled([
    copyTree(spec.dropletDir, path.join(taskDir, 'app'), owner),
    host.cgroups ? host.cgroups.create(taskDirName(spec.taskGuid), limits) : Promise.resolve(undefined),
  ])
  if (group.status === 'fulfilled') job.cgroup = group.value
  if (copied.status === 'rejected') throw copied.reason
  if (group.status === 'rejected') throw group.reason
}

/** The wrapper's command line: rlimits, then bwrap (or setpriv) around `sh -c <command>`. */
function launchCommand(host: TaskHost, job: TaskProcess): { file: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  const { spec, taskDir } = job
  const appDir = path.join(taskDir, 'app')
  const tmpDir = path.join(taskDir, 'tmp')
  const l = spec.limits
  const env: NodeJS.ProcessEnv = { ...spec.env, [MARKER]: `${host.executorId}:${spec.taskGuid}` }
  let exec: string[]
  const setpriv = host.tools.setpriv
  if (host.bwrap) {
    env.HOME ??= SANDBOX_APP_DIR
    env.TMPDIR ??= SANDBOX_TMP_DIR
    const sandbox = [
      host.tools.bwrap!,
      ...bwrapArgs({
        etcDir: host.etcDir(),
        appDir,
        tmpDir,
        hostname: spec.taskGuid,
        network: host.network,
        disableUserns: host.bwrap.disableUserns,
      }),
      host.tools.sh,
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
    const task = [host.tools.sh, '-c', spec.command]
    exec = setpriv ? [...setprivArgs(setpriv, true), ...task] : task
  }
  const nproc = !host.cgroups?.pids && host.user.switched && l.pids > 0 ? l.pids + (host.bwrap ? BWRAP_PROCS : 0) : null
  const args = wrapperArgs({
    fileSizeBytes: l.diskMb > 0 ? Math.floor(l.diskMb * MB) : null,
    nproc,
    exec,
  })
  return { file: host.tools.sh, args, cwd: appDir, env }
}

/** Starts the wrapper as the task user, then moves it into the task's cgroups and lets it go. */
export async function spawnTask(host: TaskHost, job: TaskProcess): Promise<Spawned | { readonly error: string }> {
  const launch = launchCommand(host, job)
  // Started as the task user directly (libuv drops supplementary groups, then gid, then uid,
  // after chdir and before exec): no root process runs with the task's environment.
  const child = spawn(launch.file, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    detached: true,
    ...(host.user.switched ? { uid: host.user.uid, gid: host.user.gid } : {}),
  })
  job.child = child
  // The wrapper waits on stdin: move it into the task's cgroups, then let it go. Off the main
  // thread: on cgroup v1 a move waits for an RCU grace period (often ~10 ms on this host).
  child.stdin?.on('error', () => {})
  const released = child.pid === undefined ? Promise.resolve() : release(job, child)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: Date; hr: bigint }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: new Date(), hr: process.hrtime.bigint() }))
  })
  const failed = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null))
    child.once('error', (err) => resolve(err))
  })
  const setupError = { text: '' }
  const fd3 = child.stdio[3] as Readable | null
  fd3?.on('data', (c: Buffer) => {
    if (setupError.text.length < 4096) setupError.text += c.toString()
  })
  if (failed) {
    child.stdout?.destroy()
    child.stderr?.destroy()
    fd3?.destroy()
    return { error: failed.message }
  }
  return { child, pid: child.pid!, startedAt: new Date(), released, exited, fd3, setupError }
}

/** Moves the waiting wrapper into the task's cgroups, then tells it to go (or why not). */
async function release(job: TaskProcess, child: ChildProcess): Promise<void> {
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

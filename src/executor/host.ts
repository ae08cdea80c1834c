// What the host offers the local executor: a working bubblewrap, a work root the task user can
// reach, and the one-paragraph description of how tasks are isolated here (docs/executor.md).
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { CgroupDriver } from './cgroups.ts'
import { chownTree } from './disk.ts'
import type { ExecutorInfo } from './executor.ts'
import { SANDBOX_APP_DIR, type EtcSnapshot, type TaskUser, type Tools, bwrapArgs, resolveTaskUser, traversableBy } from './sandbox.ts'

/** Overhead processes in a bwrap sandbox that count against pids.max: bwrap itself and the namespace's init. */
export const BWRAP_PROCS = 2

/** The bubblewrap mode that worked here (nested user namespaces off where the host allows it). */
export interface BwrapMode {
  readonly disableUserns: boolean
}

/** Everything `describe` needs: what was detected at start, nothing read from the host. */
export interface HostFacts {
  readonly user: TaskUser
  readonly tools: Pick<Tools, 'setpriv' | 'bwrapVersion'>
  readonly cgroups: Pick<CgroupDriver, 'version' | 'memory' | 'pids' | 'swapLimited'> | null
  readonly bwrap: BwrapMode | null
  readonly network: boolean
  readonly diskPollMs: number
}

interface ProbeLog {
  warn(obj: object, msg: string): void
}

/** Runs `true` in the real sandbox as the task user; null when bwrap is missing or fails here. */
export async function probeBwrap(workRoot: string, user: TaskUser, tools: Tools, network: boolean, log: ProbeLog, etc: EtcSnapshot): Promise<BwrapMode | null> {
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
      const argv = [
        tools.bwrap,
        ...bwrapArgs({ etcDir: etc.path(), appDir: path.join(dir, 'app'), tmpDir: path.join(dir, 'tmp'), hostname: 'probe', network, disableUserns }),
        tools.sh,
        '-c',
        `test "$(pwd)" = ${SANDBOX_APP_DIR} && touch ok && test -w /tmp && test -r /etc/passwd`,
      ]
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

/** How tasks are isolated on a host with these facts: the executor's `info`, in words and fields. */
export function describe(h: HostFacts): ExecutorInfo {
  const { user: u, cgroups: cg, bwrap } = h
  const memoryLimit = cg?.memory ? cg.version : 'none'
  const pidsLimit = cg?.pids ? cg.version : u.switched ? 'rlimit-nproc' : 'none'
  const nnp = bwrap || h.tools.setpriv ? ' and no_new_privs' : ''
  const who = u.switched
    ? `as uid ${u.uid} (${u.name}) with no capabilities${nnp}`
    : `as the server's own user (uid ${u.uid}, ${u.name}; the server is not root, so it cannot switch users)${nnp ? ' with no_new_privs' : ''}`
  const sentences: string[] = []
  if (bwrap) {
    sentences.push(
      `bubblewrap ${h.tools.bwrapVersion ?? '(unknown version)'} sandbox, ${who}${u.switched ? '' : ', no capabilities'}`,
      `New user, pid, ipc, uts and cgroup namespaces${bwrap.disableUserns ? '; no nested user namespaces' : ''}`,
      h.network ? "Network: the host's (not isolated)" : 'Network: none (a private loopback only)',
      `Filesystem: read-only /usr and selected /etc files, private /proc, /dev and /tmp, the working copy read-write at ${SANDBOX_APP_DIR}; / is read-only and nothing else of the host is visible`,
      'Processes: the whole tree dies with the task and with the server (--die-with-parent)',
      'No seccomp filter',
    )
  } else {
    sentences.push(
      `Plain process (no sandbox), ${who}, in its own session and process group, cwd = the working copy`,
      "No namespaces: the task sees the host filesystem (with that user's permissions), all host processes and the network",
      `Processes: what is left when the task exits or is cancelled is killed by process group and ${cg ? 'cgroup' : 'marker variable'}${h.tools.setpriv ? "; only the task's sh dies with the server, the rest is reaped at the next start" : ''}`,
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
        : `Process count: ${pidsLimit} pids.max${bwrap ? ` (+${BWRAP_PROCS} for bwrap and the namespace init)` : ''}`,
    `Disk: the working copy and tmp are measured every ${h.diskPollMs} ms and the task is killed once over (it can overshoot between polls); RLIMIT_FSIZE caps any single file at the limit`,
  )
  return {
    isolation: sentences.join('. ') + '.',
    memoryLimit,
    pidsLimit,
    diskLimit: 'poll+rlimit-fsize',
    sandbox: bwrap ? 'bwrap' : 'none',
    network: bwrap ? h.network : true,
    user: { uid: u.uid, gid: u.gid, name: u.name },
  }
}

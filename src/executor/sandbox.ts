// How a task process is launched: the unprivileged user it runs as, the bubblewrap sandbox when
// the host supports it, and the small sh wrapper that joins the task's cgroups and sets rlimits
// before anything of the task runs.
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface TaskUser {
  readonly uid: number
  readonly gid: number
  readonly name: string
  /** True when the executor runs as root and switches to this user; false = tasks run as the server's own user. */
  readonly switched: boolean
}

export const DEFAULT_TASK_USER = 'cf-ledger-task'

/** Where the task's files appear inside the sandbox (CF's layout). */
export const SANDBOX_APP_DIR = '/home/vcap/app'
export const SANDBOX_TMP_DIR = '/home/vcap/tmp'

function which(cmd: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    if (!dir) continue
    const p = path.join(dir, cmd)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {
      // next
    }
  }
  return null
}

function idOf(flag: '-u' | '-g', name: string): number | null {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' })
  if (r.status !== 0) return null
  const n = Number(r.stdout.trim())
  return Number.isInteger(n) ? n : null
}

export interface UserLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * The user tasks run as. As root: `name` (default `cf-ledger-task`, created as a system user with
 * useradd when missing), else `nobody`. Not root: the server's own user (no switch is possible).
 */
export function resolveTaskUser(name: string | undefined, log: UserLog): TaskUser {
  if (process.getuid?.() !== 0) {
    return { uid: process.getuid!(), gid: process.getgid!(), name: os.userInfo().username, switched: false }
  }
  const wanted = name ?? DEFAULT_TASK_USER
  let uid = idOf('-u', wanted)
  if (uid === null && wanted === DEFAULT_TASK_USER) {
    const useradd = which('useradd')
    const r = useradd
      ? spawnSync(useradd, ['--system', '--user-group', '--no-create-home', '--home-dir', '/home/vcap', '--shell', '/usr/sbin/nologin', wanted], { encoding: 'utf8' })
      : null
    if (r?.status === 0) log.info({ user: wanted }, 'created the system user tasks run as')
    else log.warn({ user: wanted, error: r ? r.stderr.trim() : 'useradd not found' }, 'could not create the task user; using nobody')
    uid = idOf('-u', wanted)
  }
  if (uid === null) {
    if (name !== undefined) throw new Error(`task user '${name}' does not exist`)
    const nobody = idOf('-u', 'nobody')
    const nogroup = idOf('-g', 'nobody')
    if (nobody === null || nogroup === null) throw new Error('neither cf-ledger-task nor nobody exists to run tasks as')
    return { uid: nobody, gid: nogroup, name: 'nobody', switched: true }
  }
  if (uid === 0) throw new Error(`task user '${wanted}' is root; tasks must run unprivileged`)
  const gid = idOf('-g', wanted)
  if (gid === null) throw new Error(`no group for task user '${wanted}'`)
  return { uid, gid, name: wanted, switched: true }
}

/** True when `uid:gid` (no supplementary groups) may search every directory from / down to `dir`. */
export function traversableBy(dir: string, user: TaskUser): boolean {
  if (!user.switched) return true
  let p = path.resolve(dir)
  for (;;) {
    let st: fs.Stats
    try {
      st = fs.statSync(p)
    } catch {
      return false
    }
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001
    if (!(st.mode & bit)) return false
    const parent = path.dirname(p)
    if (parent === p) return true
    p = parent
  }
}

export interface Tools {
  readonly sh: string
  readonly setpriv: string | null
  readonly bwrap: string | null
  readonly bwrapVersion: string | null
}

export function findTools(): Tools {
  const bwrap = which('bwrap')
  let bwrapVersion: string | null = null
  if (bwrap) {
    const r = spawnSync(bwrap, ['--version'], { encoding: 'utf8' })
    bwrapVersion = r.status === 0 ? r.stdout.trim().replace(/^bubblewrap\s+/, '') : null
  }
  return { sh: fs.existsSync('/bin/sh') ? '/bin/sh' : (which('sh') ?? '/bin/sh'), setpriv: which('setpriv'), bwrap, bwrapVersion }
}

/** /usr plus the merged-/usr links (or directories). */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr']
  for (const p of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let st: fs.Stats
    try {
      st = fs.lstatSync(p)
    } catch {
      continue
    }
    if (st.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(p), p)
    else if (st.isDirectory()) args.push('--ro-bind', p, p)
  }
  return args
}

/** The parts of /etc that programs need (name resolution, certificates, users, locale, ld.so). */
const ETC_ENTRIES = [
  'alternatives', 'ca-certificates', 'ca-certificates.conf', 'debian_version', 'fonts', 'gai.conf', 'group', 'host.conf',
  'hosts', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'locale.alias', 'localtime', 'magic', 'magic.mime', 'mime.types',
  'networks', 'nsswitch.conf', 'os-release', 'passwd', 'perl', 'protocols', 'resolv.conf', 'services', 'ssl', 'timezone',
]
const ETC_PATTERN = /^(java-\d+-openjdk|python3(\.\d+)?)$/

function selectedEtc(source: string): string[] {
  try {
    return fs.readdirSync(source).filter((n) => ETC_ENTRIES.includes(n) || ETC_PATTERN.test(n))
  } catch {
    return []
  }
}

/** Copies what "others" may read of src into dst: top-level links followed, inner links kept. */
function copyReadable(src: string, dst: string, top: boolean): void {
  const st = top ? fs.statSync(src) : fs.lstatSync(src)
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst)
  } else if (st.isDirectory()) {
    if ((st.mode & 0o005) !== 0o005) return
    fs.mkdirSync(dst, { mode: st.mode & 0o755 })
    for (const n of fs.readdirSync(src)) copyReadable(path.join(src, n), path.join(dst, n), false)
    fs.chmodSync(dst, st.mode & 0o755)
  } else if (st.isFile()) {
    if (!(st.mode & 0o004)) return
    fs.copyFileSync(src, dst)
    fs.chmodSync(dst, st.mode & 0o755)
  }
}

/** A cheap fingerprint of the selected /etc entries (names, sizes, mtimes, inodes, link targets). */
function etcSignature(source: string, names: readonly string[]): string {
  const parts: string[] = []
  const walk = (p: string, top: boolean, depth: number) => {
    let st: fs.Stats
    try {
      st = top ? fs.statSync(p) : fs.lstatSync(p)
    } catch {
      parts.push(`${p}:-`)
      return
    }
    parts.push(`${p}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`)
    if (st.isDirectory() && depth < 8) {
      try {
        for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), false, depth + 1)
      } catch {
        // unreadable: its fingerprint is the directory's own
      }
    }
  }
  for (const n of names) walk(path.join(source, n), true, 0)
  return crypto.createHash('sha256').update(parts.join('\n')).digest('hex')
}

/**
 * A read-only copy of the selected /etc entries, bound as the sandbox's /etc with one mount
 * (binding ~30 entries one by one cost ~12 ms per task start here). Only what any user may read is
 * copied. The copy is rechecked against /etc at most every `checkMs` and rebuilt when /etc
 * changed (resolv.conf, passwd…), under a new name; old copies are removed a minute later.
 */
export class EtcSnapshot {
  private current: string | null = null
  private signature = ''
  private lastCheck = 0
  private version = 0
  private refreshing = false
  private readonly names: string[]
  private readonly old: string[] = []

  constructor(
    private readonly root: string,
    private readonly checkMs = 2000,
    private readonly source = '/etc',
    /** A background refresh or clean-up that failed (a full disk): tasks keep the copy in use. */
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.names = selectedEtc(source)
  }

  /** Directory names (under root) this snapshot owns. */
  get dirNames(): string[] {
    return [this.current, ...this.old].filter((d): d is string => d !== null).map((d) => path.basename(d))
  }

  /** The current copy; checks /etc in the background when the last check is older than checkMs. */
  path(): string {
    if (!this.current) this.rebuild(etcSignature(this.source, this.names))
    else if (Date.now() - this.lastCheck > this.checkMs && !this.refreshing) {
      this.refreshing = true
      setImmediate(() => {
        try {
          const sig = etcSignature(this.source, this.names)
          if (sig !== this.signature) this.rebuild(sig)
        } catch (err) {
          this.onError(err as Error)
        } finally {
          // After a failure too: the next check comes checkMs later, not at every task start.
          this.lastCheck = Date.now()
          this.refreshing = false
        }
      })
    }
    return this.current!
  }

  private rebuild(signature: string): void {
    const dir = path.join(this.root, `.etc-${process.pid}-${++this.version}`)
    try {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.mkdirSync(dir, { mode: 0o755 })
      for (const n of this.names) {
        try {
          copyReadable(path.join(this.source, n), path.join(dir, n), true)
        } catch {
          // vanished or unreadable: the sandbox goes without it
        }
      }
      fs.chmodSync(dir, 0o755)
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw err
    }
    if (this.current) {
      const previous = this.current
      this.old.push(previous)
      // Sandboxes that bound it keep their mount; new ones get the new copy.
      setTimeout(() => {
        try {
          fs.rmSync(previous, { recursive: true, force: true })
        } catch (err) {
          this.onError(err as Error)
        }
        this.old.splice(this.old.indexOf(previous), 1)
      }, 60_000).unref()
    }
    this.current = dir
    this.signature = signature
    this.lastCheck = Date.now()
  }

  remove(): void {
    for (const d of [this.current, ...this.old]) if (d) fs.rmSync(d, { recursive: true, force: true })
    this.current = null
  }
}

export interface BwrapOptions {
  /** The directory bound read-only as the sandbox's /etc (an EtcSnapshot). */
  readonly etcDir: string
  readonly appDir: string
  readonly tmpDir: string
  readonly hostname: string
  readonly network: boolean
  /** bwrap ≥ 0.8: forbid creating user namespaces inside the sandbox. */
  readonly disableUserns: boolean
}

let cachedSystemBinds: string[] | undefined

/** bwrap's arguments up to and including `--`; the command follows. */
export function bwrapArgs(o: BwrapOptions): string[] {
  cachedSystemBinds ??= systemBinds()
  return [
    '--die-with-parent',
    '--unshare-user',
    ...(o.disableUserns ? ['--disable-userns'] : []),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(o.network ? [] : ['--unshare-net']),
    '--hostname',
    o.hostname.slice(0, 63),
    ...cachedSystemBinds,
    '--ro-bind',
    o.etcDir,
    '/etc',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    o.appDir,
    SANDBOX_APP_DIR,
    '--bind',
    o.tmpDir,
    SANDBOX_TMP_DIR,
    '--bind',
    o.tmpDir,
    '/tmp',
    '--chdir',
    SANDBOX_APP_DIR,
    '--remount-ro',
    '/',
    '--',
  ]
}

export interface WrapperOptions {
  /** RLIMIT_FSIZE in bytes (null = leave as is). */
  readonly fileSizeBytes: number | null
  /** RLIMIT_NPROC (null = leave as is). */
  readonly nproc: number | null
  /** The program to exec once released and limited. */
  readonly exec: readonly string[]
}

/**
 * `sh -c WRAPPER …`, started directly as the task user with the task's environment (no root
 * process ever sees that environment: LD_PRELOAD and friends are the user's own business). The
 * wrapper waits for a `go` line on stdin, which the executor sends once it has moved the
 * wrapper's pid into the task's cgroups, so the task and everything it forks are inside them
 * from the first instruction. Then it sets the rlimits and execs the rest with stdin from
 * /dev/null. Setup failures go to fd 3 (not the task's stderr) with exit 125; fd 3 is closed for
 * the task.
 */
export function wrapperArgs(o: WrapperOptions): string[] {
  const limits = ['ulimit -c 0 || fail "cannot set RLIMIT_CORE"']
  if (o.fileSizeBytes !== null) {
    // dash counts RLIMIT_FSIZE in 512-byte blocks.
    limits.push(`ulimit -f ${Math.max(1, Math.ceil(o.fileSizeBytes / 512))} || fail "cannot set RLIMIT_FSIZE"`)
  }
  if (o.nproc !== null) limits.push(`ulimit -p ${Math.max(1, Math.floor(o.nproc))} || fail "cannot set RLIMIT_NPROC"`)
  const script = [
    'fail() { echo "$1" >&3; exit 125; }',
    'read -r go || fail "the executor went away before the task started"',
    '[ "$go" = go ] || fail "the executor could not set up the task: $go"',
    ...limits,
    'exec "$@" </dev/null 3>&-',
  ].join('\n')
  return ['-c', script, 'cf-ledger-task-wrapper', ...o.exec]
}

/** setpriv's arguments (run as the task user): no_new_privs, and optionally die with the server. */
export function setprivArgs(setpriv: string, pdeathsig: boolean): string[] {
  return [setpriv, '--no-new-privs', ...(pdeathsig ? ['--pdeathsig=KILL'] : []), '--']
}

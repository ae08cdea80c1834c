// Per-task cgroups for the memory and process-count limits: cgroup v2 where its memory controller
// is available, v1 (memory/ and pids/ hierarchies) otherwise. Every task gets its own group under
// one parent per executor (`cf-ledger-<id>`), so a restarted server finds and kills leftovers.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export type CgroupVersion = 'cgroup-v1' | 'cgroup-v2'

export interface CgroupLimits {
  /** Bytes; null = no memory limit. */
  readonly memoryBytes: number | null
  /** Processes/threads; null = no limit. */
  readonly pids: number | null
}

/** One task's cgroup(s). */
export interface TaskCgroup {
  /** `cgroup.procs` files a process writes its pid into to join (one for v2, one per v1 hierarchy). */
  readonly procsFiles: readonly string[]
  /** Every pid in the group now. */
  pids(): number[]
  /** OOM kills in the group so far (memory.events / memory.oom_control `oom_kill`). */
  oomKills(): number
  /** Sends `signal` to every process in the group (cgroup.kill for SIGKILL on v2); returns the count. */
  signal(signal: NodeJS.Signals): number
  /** Kills what is left and removes the group's directories. */
  remove(): Promise<void>
}

export interface CgroupDriver {
  readonly version: CgroupVersion
  /** Which limits this driver enforces. */
  readonly memory: boolean
  readonly pids: boolean
  /** memory+swap limit (v1 memory.memsw, v2 memory.swap.max) so the limit cannot be dodged by swapping. */
  readonly swapLimited: boolean
  /** The parent directories (for docs and logs). */
  readonly parents: readonly string[]
  create(name: string, limits: CgroupLimits): Promise<TaskCgroup>
  /** Removes the parent groups if they are empty (at shutdown). */
  dispose(): Promise<void>
  /** Task groups left under the parent, e.g. by a server that died. */
  leftovers(): TaskCgroup[]
}

interface Mount {
  readonly fstype: string
  readonly mountPoint: string
  readonly superOptions: string[]
}

function readMounts(): Mount[] {
  let text: string
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return []
  }
  const out: Mount[] = []
  for (const line of text.split('\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const dash = line.indexOf(' - ')
    if (dash < 0) continue
    const left = line.slice(0, dash).split(' ')
    const right = line.slice(dash + 3).split(' ')
    const mountPoint = (left[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    out.push({ fstype: right[0] ?? '', mountPoint, superOptions: (right[2] ?? '').split(',') })
  }
  return out
}

function readIntField(file: string, key: string): number | null {
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(/\s+/)
      if (k === key && v !== undefined) return Number(v)
    }
  } catch {
    // gone or unreadable
  }
  return null
}

function readPids(file: string): number[] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

function killAll(pids: number[], signal: NodeJS.Signals): number {
  let n = 0
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
      n++
    } catch {
      // already gone
    }
  }
  return n
}

/** rmdir that waits out the few ms a cgroup stays busy after its last process exits. */
async function removeDir(dir: string, procs: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rmdir(dir)
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      if (code !== 'EBUSY' || attempt >= 200) throw err
      killAll(readPids(procs), 'SIGKILL')
      await sleep(attempt < 20 ? 2 : 10)
    }
  }
}

function safeName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name) || name.startsWith('.')) throw new Error(`unsafe cgroup name '${name}'`)
  return name
}

// cgroupfs calls go through the thread pool: they take the kernel's cgroup locks and can wait for
// another group's removal, which must not stall the server's event loop.
async function freshDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // A leftover with the same name (a resubmitted task after a crash): empty it and start over.
    await removeDir(dir, path.join(dir, 'cgroup.procs'))
    await fsp.mkdir(dir)
  }
}

class V1Group implements TaskCgroup {
  constructor(
    private readonly memoryDir: string | null,
    private readonly pidsDir: string | null,
  ) {}

  get procsFiles(): string[] {
    return [this.memoryDir, this.pidsDir].filter((d): d is string => d !== null).map((d) => path.join(d, 'cgroup.procs'))
  }

  pids(): number[] {
    const seen = new Set<number>()
    for (const f of this.procsFiles) for (const p of readPids(f)) seen.add(p)
    return [...seen]
  }

  oomKills(): number {
    if (!this.memoryDir) return 0
    return readIntField(path.join(this.memoryDir, 'memory.oom_control'), 'oom_kill') ?? 0
  }

  signal(signal: NodeJS.Signals): number {
    return killAll(this.pids(), signal)
  }

  async remove(): Promise<void> {
    for (const dir of [this.memoryDir, this.pidsDir]) {
      if (dir) await removeDir(dir, path.join(dir, 'cgroup.procs'))
    }
  }
}

class V2Group implements TaskCgroup {
  constructor(private readonly dir: string) {}

  get procsFiles(): string[] {
    return [path.join(this.dir, 'cgroup.procs')]
  }

  pids(): number[] {
    return readPids(path.join(this.dir, 'cgroup.procs'))
  }

  oomKills(): number {
    return readIntField(path.join(this.dir, 'memory.events'), 'oom_kill') ?? 0
  }

  signal(signal: NodeJS.Signals): number {
    const pids = this.pids()
    if (signal === 'SIGKILL') {
      try {
        fs.writeFileSync(path.join(this.dir, 'cgroup.kill'), '1')
        return pids.length
      } catch {
        // cgroup.kill needs Linux 5.14; fall back to one kill per pid
      }
    }
    return killAll(pids, signal)
  }

  async remove(): Promise<void> {
    this.signal('SIGKILL')
    await removeDir(this.dir, path.join(this.dir, 'cgroup.procs'))
  }
}

async function tryMkdirParent(dir: string): Promise<boolean> {
  try {
    await fsp.mkdir(dir, { recursive: true })
    await fsp.access(path.join(dir, 'cgroup.procs'), fs.constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** The cgroup v2 driver for the hierarchy mounted at `mount`, or null (exported for tests). */
export async function detectV2(mount: string, parentName: string): Promise<CgroupDriver | null> {
  let controllers: string[]
  try {
    controllers = fs.readFileSync(path.join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/)
  } catch {
    return null
  }
  if (!controllers.includes('memory')) return null
  const parent = path.join(mount, parentName)
  // The hierarchy root must hand memory (and pids) down to our parent group.
  const rootControl = path.join(mount, 'cgroup.subtree_control')
  const wanted = ['memory', 'pids'].filter((c) => controllers.includes(c))
  try {
    const enabled = fs.readFileSync(rootControl, 'utf8').trim().split(/\s+/)
    const missing = wanted.filter((c) => !enabled.includes(c))
    if (missing.length) fs.writeFileSync(rootControl, missing.map((c) => `+${c}`).join(' '))
  } catch {
    return null
  }
  if (!(await tryMkdirParent(parent))) return null
  try {
    fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '))
  } catch {
    return null
  }
  const hasPids = wanted.includes('pids')
  let swap = false
  return {
    version: 'cgroup-v2',
    memory: true,
    pids: hasPids,
    get swapLimited() {
      return swap
    },
    parents: [parent],
    async create(name, limits) {
      const dir = path.join(parent, safeName(name))
      if (!fs.existsSync(parent)) {
        // Removed under us (another executor's clean-up of an idle parent): set it up again.
        await fsp.mkdir(parent, { recursive: true })
        await fsp.writeFile(path.join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '))
      }
      await freshDir(dir)
      try {
        if (limits.memoryBytes !== null) {
          await fsp.writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes))
          try {
            await fsp.writeFile(path.join(dir, 'memory.swap.max'), '0')
            swap = true
          } catch {
            // no swap accounting on this kernel
          }
        }
        if (hasPids && limits.pids !== null) await fsp.writeFile(path.join(dir, 'pids.max'), String(limits.pids))
      } catch (err) {
        await fsp.rmdir(dir).catch(() => {})
        throw err
      }
      return new V2Group(dir)
    },
    leftovers() {
      return subdirs(parent).map((d) => new V2Group(d))
    },
    async dispose() {
      await fsp.rmdir(parent).catch(() => {})
    },
  }
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name))
  } catch {
    return []
  }
}

async function detectV1(mounts: Mount[], parentName: string): Promise<CgroupDriver | null> {
  const v1 = (controller: string) => mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(controller))?.mountPoint
  const memMount = v1('memory')
  const pidsMount = v1('pids')
  const memParent = memMount ? path.join(memMount, parentName) : null
  const pidsParent = pidsMount ? path.join(pidsMount, parentName) : null
  const memory = memParent !== null && (await tryMkdirParent(memParent))
  const pids = pidsParent !== null && (await tryMkdirParent(pidsParent))
  if (!memory && !pids) return null
  const memsw = memory && fs.existsSync(path.join(memParent!, 'memory.memsw.limit_in_bytes'))
  return {
    version: 'cgroup-v1',
    memory,
    pids,
    swapLimited: memsw,
    parents: [memory ? memParent! : null, pids ? pidsParent! : null].filter((p): p is string => p !== null),
    async create(name, limits) {
      const n = safeName(name)
      const memDir = memory ? path.join(memParent!, n) : null
      const pidsDir = pids ? path.join(pidsParent!, n) : null
      const group = new V1Group(memDir, pidsDir)
      const makeMemory = async (dir: string) => {
        await fsp.mkdir(memParent!, { recursive: true })
        await freshDir(dir)
        if (limits.memoryBytes !== null) {
          await fsp.writeFile(path.join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes))
          // memsw ≥ limit_in_bytes is required, so it is written second: memory + swap = memory.
          if (memsw) await fsp.writeFile(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes))
        }
      }
      const makePids = async (dir: string) => {
        await fsp.mkdir(pidsParent!, { recursive: true })
        await freshDir(dir)
        if (limits.pids !== null) await fsp.writeFile(path.join(dir, 'pids.max'), String(limits.pids))
      }
      try {
        const made = await Promise.allSettled([memDir ? makeMemory(memDir) : null, pidsDir ? makePids(pidsDir) : null])
        for (const m of made) if (m.status === 'rejected') throw m.reason
      } catch (err) {
        await group.remove().catch(() => {})
        throw err
      }
      return group
    },
    leftovers() {
      const names = new Set<string>()
      for (const p of [memory ? memParent : null, pids ? pidsParent : null]) {
        if (p) for (const d of subdirs(p)) names.add(path.basename(d))
      }
      const groups = [...names].map(
        (n) =>
          new V1Group(
            memory && fs.existsSync(path.join(memParent!, n)) ? path.join(memParent!, n) : null,
            pids && fs.existsSync(path.join(pidsParent!, n)) ? path.join(pidsParent!, n) : null,
          ),
      )
      return groups
    },
    async dispose() {
      for (const p of [memParent, pidsParent]) if (p) await fsp.rmdir(p).catch(() => {})
    },
  }
}

/**
 * Finds a cgroup hierarchy this process may create groups in: v2 (unified, with the memory
 * controller) first, else v1 memory/pids hierarchies. Null when neither is writable (not root, no
 * delegation) or there are no cgroups.
 */
export async function detectCgroups(parentName: string): Promise<CgroupDriver | null> {
  const mounts = readMounts()
  for (const m of mounts.filter((m) => m.fstype === 'cgroup2')) {
    const d = await detectV2(m.mountPoint, parentName)
    if (d) return d
  }
  return detectV1(mounts, parentName)
}

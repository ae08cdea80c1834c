// The local task executor against real child processes: no server, no store.
// Runs every behaviour in both modes the host supports: the bubblewrap sandbox ('auto' when bwrap
// works here) and plain processes ('none'). Limits the host cannot enforce are skipped with the
// reason the executor itself reports (ExecutorInfo), never assumed.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExecutorListener, OutputLine, TaskExit, TaskLimits } from '../src/executor/executor.ts'
import { LineSplitter, TaskClock } from '../src/executor/line-reader.ts'
import { defaultWorkRoot } from '../src/executor/host.ts'
import { type LocalExecutorOptions, LocalExecutor } from '../src/executor/local-executor.ts'
import { executorIdOf } from '../src/executor/task-ids.ts'
import { detectV2 } from '../src/executor/cgroups.ts'
import { copyTree, diskUsage } from '../src/executor/disk.ts'
import { pidsWithEnv } from '../src/executor/procs.ts'
import { KeyedFifo } from '../src/executor/queue.ts'
import { EtcSnapshot } from '../src/executor/sandbox.ts'
import { loadConfig } from '../src/config.ts'

const root = path.resolve(import.meta.dirname, '..')
const isRoot = process.getuid?.() === 0
const quiet = { debug() {}, info() {}, warn() {}, error() {} }

/** A directory the unprivileged task user can reach (mkdtemp makes 0700 directories). */
function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.chmodSync(d, 0o711)
  return d
}

const base = tempDir('cf-ledger-executor-test-')
after(() => fs.rmSync(base, { recursive: true, force: true }))

function makeDroplet(): string {
  const d = fs.mkdtempSync(path.join(base, 'droplet-'))
  fs.chmodSync(d, 0o755)
  fs.writeFileSync(path.join(d, 'hello.txt'), 'hello\n')
  fs.mkdirSync(path.join(d, 'bin'))
  fs.writeFileSync(path.join(d, 'bin', 'run.sh'), 'echo "script ran with $1"\n', { mode: 0o755 })
  return d
}

interface Event {
  readonly type: 'started' | 'output' | 'exited'
  readonly guid: string
  readonly at: number
}

class Recorder implements ExecutorListener {
  readonly events: Event[] = []
  readonly lines = new Map<string, OutputLine[]>()
  readonly exits = new Map<string, TaskExit>()
  readonly pids = new Map<string, number>()
  private readonly waiting = new Map<string, (e: TaskExit) => void>()
  private readonly lineWaiters: Array<{ guid: string; re: RegExp; resolve: () => void }> = []
  startedDelayMs = 0
  failStarted = false
  failOutput = false
  failExited = false

  async started(guid: string, info: { pid: number; startedAt: Date }): Promise<void> {
    this.events.push({ type: 'started', guid, at: Date.now() })
    this.pids.set(guid, info.pid)
    if (this.startedDelayMs) await sleep(this.startedDelayMs)
    if (this.failStarted) throw new Error('store down (started)')
  }

  output(guid: string, line: OutputLine): void {
    let l = this.lines.get(guid)
    if (!l) {
      l = []
      this.lines.set(guid, l)
      this.events.push({ type: 'output', guid, at: Date.now() })
    }
    l.push(line)
    for (const w of [...this.lineWaiters]) {
      if (w.guid === guid && w.re.test(line.text)) {
        this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1)
        w.resolve()
      }
    }
    if (this.failOutput) throw new Error('sink down (output)')
  }

  async exited(guid: string, exit: TaskExit): Promise<void> {
    this.events.push({ type: 'exited', guid, at: Date.now() })
    this.exits.set(guid, exit)
    this.waiting.get(guid)?.(exit)
    if (this.failExited) throw new Error('store down (exited)')
  }

  exit(guid: string): Promise<TaskExit> {
    const done = this.exits.get(guid)
    if (done) return Promise.resolve(done)
    return new Promise((resolve) => this.waiting.set(guid, resolve))
  }

  line(guid: string, re: RegExp): Promise<void> {
    if (this.lines.get(guid)?.some((l) => re.test(l.text))) return Promise.resolve()
    return new Promise((resolve) => this.lineWaiters.push({ guid, re, resolve }))
  }

  text(guid: string, stream?: 'OUT' | 'ERR'): string[] {
    return (this.lines.get(guid) ?? []).filter((l) => !stream || l.stream === stream).map((l) => l.text)
  }
}

function spawnSyncOk(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
}

const LIMITS: TaskLimits = { memoryMb: 256, diskMb: 256, pids: 256, maxRunSeconds: 0 }
let seq = 0
const guid = (name: string) => `${name}-${process.pid}-${++seq}`

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

async function newExecutor(rec: Recorder, options: Partial<LocalExecutorOptions> = {}): Promise<LocalExecutor> {
  return LocalExecutor.create(
    { workRoot: fs.mkdtempSync(path.join(base, 'work-')), concurrency: 4, cancelGraceMs: 300, network: true, ...options },
    rec,
    quiet,
  )
}

/** Processes still carrying this task's marker variable (every process a task starts inherits it). */
function survivors(ex: LocalExecutor, taskGuid: string): number[] {
  return pidsWithEnv(`CF_LEDGER_TASK_ID=${ex.id}:${taskGuid}`)
}

async function noSurvivors(ex: LocalExecutor, taskGuid: string): Promise<void> {
  for (let i = 0; i < 50 && survivors(ex, taskGuid).length; i++) await sleep(20)
  assert.deepEqual(survivors(ex, taskGuid), [], 'no process of the task is left')
}

describe('line splitting', () => {
  const split = (chunks: Array<string | Buffer>, max = 10) => {
    const out: Array<[string, bigint]> = []
    const s = new LineSplitter(new TaskClock(), (t, ts) => out.push([t, ts]), max)
    for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c))
    s.end()
    return out
  }

  it('splits on \\n, joins lines across chunks, delivers empty lines and a final partial line', () => {
    assert.deepEqual(
      split(['a\nb', 'c\n\nd', 'e']).map(([t]) => t),
      ['a', 'bc', '', 'de'],
    )
    assert.deepEqual(
      split(['x\r\n']).map(([t]) => t),
      ['x\r'],
    )
  })

  it('caps a line at the limit, cutting on UTF-8 character boundaries', () => {
    assert.deepEqual(
      split(['0123456789abcdefghijXYZ\n']).map(([t]) => t),
      ['0123456789', 'abcdefghij', 'XYZ'],
    )
    // 'é' is 2 bytes: 4 of them + 'a' = 9 bytes fit, the 5th 'é' would straddle byte 10.
    const pieces = split(['aéééééé\n']).map(([t]) => t)
    assert.deepEqual(pieces, ['aéééé', 'éé'])
    for (const p of pieces) assert.ok(Buffer.byteLength(p) <= 10)
    // A long line without a newline in many small chunks.
    assert.deepEqual(
      split(['0123', '4567', '89ab', 'cd']).map(([t]) => t),
      ['0123456789', 'abcd'],
    )
    // A multi-byte character split across chunks comes out whole.
    const euro = Buffer.from('€\n')
    assert.deepEqual(
      split([euro.subarray(0, 1), euro.subarray(1)]).map(([t]) => t),
      ['€'],
    )
  })

  it('gives strictly increasing timestamps near the wall clock', () => {
    const out = split(['a\nb\nc\n', 'd\n'], 100)
    for (let i = 1; i < out.length; i++) assert.ok(out[i]![1] > out[i - 1]![1])
    const ms = Number(out[0]![1] / 1_000_000n)
    assert.ok(Math.abs(ms - Date.now()) < 5000, `${ms} vs ${Date.now()}`)
  })
})

describe('working copy', () => {
  it('copies files with their modes, directories and symlinks (never followed); skips fifos', async () => {
    const src = fs.mkdtempSync(path.join(base, 'copy-src-'))
    fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    fs.writeFileSync(path.join(src, 'secret'), 'x', { mode: 0o600 })
    fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true })
    fs.writeFileSync(path.join(src, 'a', 'b', 'deep.txt'), 'deep')
    fs.symlinkSync('run.sh', path.join(src, 'link'))
    fs.symlinkSync('/etc/passwd', path.join(src, 'outside'))
    spawnSyncOk('mkfifo', [path.join(src, 'pipe')])
    const dst = path.join(base, `copy-dst-${process.pid}`)
    await copyTree(src, dst, null)
    assert.equal(fs.statSync(path.join(dst, 'run.sh')).mode & 0o777, 0o755)
    assert.equal(fs.statSync(path.join(dst, 'secret')).mode & 0o777, 0o600)
    assert.equal(fs.readFileSync(path.join(dst, 'a', 'b', 'deep.txt'), 'utf8'), 'deep')
    assert.equal(fs.readlinkSync(path.join(dst, 'link')), 'run.sh')
    assert.equal(fs.readlinkSync(path.join(dst, 'outside')), '/etc/passwd')
    assert.ok(!fs.existsSync(path.join(dst, 'pipe')))
    assert.ok((await diskUsage(dst)) > 0)
    await assert.rejects(copyTree(src, dst, null), /EEXIST/)
    await assert.rejects(copyTree(path.join(src, 'run.sh'), `${dst}-2`, null), /not a directory/)
  })
})

describe('cgroup v2 driver (against a fake hierarchy: this host has no v2 memory controller)', () => {
  it('enables the controllers and writes the v2 limit files', async () => {
    const mount = fs.mkdtempSync(path.join(base, 'cg2-'))
    fs.writeFileSync(path.join(mount, 'cgroup.controllers'), 'cpuset cpu io memory pids\n')
    fs.writeFileSync(path.join(mount, 'cgroup.subtree_control'), 'cpu\n')
    // A real cgroupfs creates these files with the directory; the fake one needs them up front.
    fs.mkdirSync(path.join(mount, 'cf-ledger-test'))
    fs.writeFileSync(path.join(mount, 'cf-ledger-test', 'cgroup.procs'), '')
    const d = await detectV2(mount, 'cf-ledger-test')
    assert.ok(d)
    assert.equal(d.version, 'cgroup-v2')
    assert.deepEqual([d.memory, d.pids], [true, true])
    assert.equal(fs.readFileSync(path.join(mount, 'cgroup.subtree_control'), 'utf8'), '+memory +pids')
    assert.equal(fs.readFileSync(path.join(mount, 'cf-ledger-test', 'cgroup.subtree_control'), 'utf8'), '+memory +pids')
    const g = await d.create('task-1', { memoryBytes: 64 * 1024 * 1024, pids: 100 })
    const dir = path.join(mount, 'cf-ledger-test', 'task-1')
    assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8'), String(64 * 1024 * 1024))
    assert.equal(fs.readFileSync(path.join(dir, 'memory.swap.max'), 'utf8'), '0')
    assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8'), '100')
    assert.deepEqual(g.procsFiles, [path.join(dir, 'cgroup.procs')])
    fs.writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n')
    assert.equal(g.oomKills(), 1)
    assert.equal(g.signal('SIGKILL'), 0)
    assert.equal(fs.readFileSync(path.join(dir, 'cgroup.kill'), 'utf8'), '1')
    assert.deepEqual(
      d.leftovers().map((l) => l.procsFiles),
      [[path.join(dir, 'cgroup.procs')]],
    )
    assert.equal(await detectV2(path.join(base, 'no-such-mount'), 'x'), null)
  })
})

describe('the sandbox /etc copy', () => {
  /** Lets the next check run (checkMs 0) and returns the copy in use after it. */
  async function afterCheck(snap: EtcSnapshot): Promise<string> {
    await sleep(5)
    snap.path()
    await new Promise((r) => setImmediate(r))
    return snap.path()
  }

  it('copies what any user may read, follows top-level links, and follows changes', async () => {
    const src = fs.mkdtempSync(path.join(base, 'etc-src-'))
    const root = fs.mkdtempSync(path.join(base, 'etc-root-'))
    fs.writeFileSync(path.join(src, 'passwd'), 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 })
    fs.writeFileSync(path.join(src, 'real-hosts'), '127.0.0.1 localhost\n', { mode: 0o644 })
    fs.symlinkSync(path.join(src, 'real-hosts'), path.join(src, 'hosts'))
    fs.mkdirSync(path.join(src, 'ssl', 'private'), { recursive: true, mode: 0o755 })
    fs.chmodSync(path.join(src, 'ssl', 'private'), 0o700)
    fs.writeFileSync(path.join(src, 'ssl', 'private', 'key.pem'), 'secret', { mode: 0o600 })
    fs.mkdirSync(path.join(src, 'ssl', 'certs'))
    fs.symlinkSync('/usr/share/ca-certificates/x.crt', path.join(src, 'ssl', 'certs', 'x.pem'))
    fs.writeFileSync(path.join(src, 'shadow'), 'root:hash', { mode: 0o640 })
    const snap = new EtcSnapshot(root, 0, src)
    const first = snap.path()
    assert.equal(fs.readFileSync(path.join(first, 'passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n')
    assert.equal(fs.readFileSync(path.join(first, 'hosts'), 'utf8'), '127.0.0.1 localhost\n')
    assert.ok(!fs.lstatSync(path.join(first, 'hosts')).isSymbolicLink(), 'a top-level link is copied as its target')
    assert.equal(fs.readlinkSync(path.join(first, 'ssl', 'certs', 'x.pem')), '/usr/share/ca-certificates/x.crt')
    assert.ok(!fs.existsSync(path.join(first, 'ssl', 'private')), 'unreadable directories are not copied')
    assert.ok(!fs.existsSync(path.join(first, 'shadow')), 'shadow is not in the selection')
    fs.writeFileSync(path.join(src, 'real-hosts'), '127.0.0.1 localhost\n10.0.0.1 db\n')
    const second = await afterCheck(snap)
    assert.notEqual(second, first)
    assert.match(fs.readFileSync(path.join(second, 'hosts'), 'utf8'), /10\.0\.0\.1 db/)
    assert.deepEqual(new Set(snap.dirNames), new Set([path.basename(first), path.basename(second)]))
    snap.remove()
    assert.deepEqual(fs.readdirSync(root), [])
  })

  it('reports a background refresh that fails, keeps the copy in use, and recovers on a later check', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'etc-fail-'))
    const src = path.join(base, 'etc')
    const root = path.join(base, 'root')
    fs.mkdirSync(src)
    fs.mkdirSync(root)
    fs.writeFileSync(path.join(src, 'hosts'), '127.0.0.1 localhost\n', { mode: 0o644 })
    const errors: Error[] = []
    const snap = new EtcSnapshot(root, 0, src, (err) => errors.push(err))
    const first = snap.path()
    fs.writeFileSync(path.join(src, 'hosts'), '127.0.0.1 localhost\n10.0.0.1 db\n')
    // Where the new copy would go is no longer a directory (as root, permissions would not stop it).
    fs.renameSync(root, `${root}.moved`)
    fs.writeFileSync(root, 'not a directory')
    await sleep(5)
    assert.equal(snap.path(), first, 'the copy in use, while the check runs')
    await new Promise((r) => setImmediate(r))
    assert.equal(errors.length, 1, 'the failure is reported, not thrown')
    assert.match(errors[0]!.message, /ENOTDIR|EEXIST/)
    assert.equal(snap.path(), first, 'tasks keep the copy in use')
    fs.rmSync(root)
    fs.renameSync(`${root}.moved`, root)
    const again = await afterCheck(snap)
    assert.notEqual(again, first)
    assert.match(fs.readFileSync(path.join(again, 'hosts'), 'utf8'), /10\.0\.0\.1 db/)
    snap.remove()
    fs.rmSync(base, { recursive: true, force: true })
  })
})

describe('FIFO queue', () => {
  it('keeps order and removes by key', () => {
    const q = new KeyedFifo<number>()
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      q.push(k, v)
    assert.equal(q.remove('b'), 2)
    assert.equal(q.shift(), 1)
    assert.deepEqual(q.keys(), ['c'])
    assert.throws(() => q.push('c', 4))
  })
})

describe('task configuration', () => {
  it('reads the task settings from the environment with defaults', () => {
    const c = loadConfig({}, {})
    assert.equal(c.taskConcurrency, 4)
    assert.equal(c.taskMaxRunSeconds, 0)
    assert.equal(c.taskCancelGraceMs, 10000)
    assert.equal(c.taskNetwork, true)
    assert.equal(c.taskSandbox, 'auto')
    assert.equal(c.taskWorkDir, undefined)
    const d = loadConfig(
      {},
      {
        CF_LEDGER_TASK_CONCURRENCY: '2',
        CF_LEDGER_TASK_MAX_RUN_SECONDS: '60',
        CF_LEDGER_TASK_NETWORK: 'false',
        CF_LEDGER_TASK_CANCEL_GRACE_MS: '500',
        CF_LEDGER_TASK_WORK_DIR: '/var/tmp/x',
        CF_LEDGER_TASK_SANDBOX: 'none',
      },
    )
    assert.deepEqual(
      [d.taskConcurrency, d.taskMaxRunSeconds, d.taskNetwork, d.taskCancelGraceMs, d.taskWorkDir, d.taskSandbox],
      [2, 60, false, 500, '/var/tmp/x', 'none'],
    )
    assert.throws(() => loadConfig({}, { CF_LEDGER_TASK_CONCURRENCY: '0' }), /at least 1/)
    assert.throws(() => loadConfig({}, { CF_LEDGER_TASK_NETWORK: 'maybe' }), /true or false/)
    assert.throws(() => loadConfig({}, { CF_LEDGER_TASK_SANDBOX: 'docker' }), /auto, bwrap or none/)
  })

  it('puts working copies where the task user can reach them', () => {
    const hidden = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-hidden-'))
    try {
      const w = defaultWorkRoot(path.join(hidden, 'data'), undefined)
      if (isRoot) assert.ok(!w.startsWith(hidden), `${w} is inside a 0700 directory`)
      else assert.equal(w, path.join(hidden, 'data', 'tasks'))
      assert.equal(defaultWorkRoot(path.join(base, 'data'), undefined), path.join(base, 'data', 'tasks'))
    } finally {
      fs.rmSync(hidden, { recursive: true, force: true })
    }
  })
})

for (const mode of ['auto', 'none'] as const) {
  describe(`local executor [sandbox ${mode}]`, () => {
    const rec = new Recorder()
    let ex: LocalExecutor
    let droplet: string
    const run = async (command: string, limits: Partial<TaskLimits> = {}, env: Record<string, string> = {}) => {
      const g = guid('t')
      ex.submit({ taskGuid: g, command, dropletDir: droplet, env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, limits: { ...LIMITS, ...limits } })
      const exit = await withTimeout(rec.exit(g), 60_000, command)
      return { g, exit, out: rec.text(g, 'OUT'), err: rec.text(g, 'ERR'), lines: rec.lines.get(g) ?? [] }
    }

    before(async () => {
      droplet = makeDroplet()
      ex = await newExecutor(rec, { sandbox: mode })
    })
    after(() => ex.shutdown())

    it('describes the isolation it applies', (t) => {
      t.diagnostic(ex.info.isolation)
      if (mode === 'none') assert.equal(ex.info.sandbox, 'none')
      assert.match(ex.info.isolation, /Memory: /)
      assert.equal(ex.info.user?.uid !== 0, true)
    })

    it('reports exit codes, started before output, exited last', async () => {
      for (const code of [0, 1, 3, 255]) {
        const r = await run(`echo hi; exit ${code}`)
        assert.equal(r.exit.exitCode, code)
        assert.equal(r.exit.signal, null)
        assert.deepEqual(r.out, ['hi'])
        const kinds = rec.events.filter((e) => e.guid === r.g).map((e) => e.type)
        assert.deepEqual(kinds, ['started', 'output', 'exited'])
        assert.ok(r.exit.startedAt <= r.exit.finishedAt)
        assert.ok(!r.exit.oomKilled && !r.exit.cancelled && !r.exit.timedOut && !r.exit.diskExceeded)
      }
    })

    it('holds output back until started has been stored', async () => {
      rec.startedDelayMs = 300
      try {
        const r = await run('echo early; echo "$(date +%s%N)"')
        const started = rec.events.find((e) => e.guid === r.g && e.type === 'started')!
        const firstOut = rec.events.find((e) => e.guid === r.g && e.type === 'output')!
        assert.ok(firstOut.at >= started.at + 280, `output ${firstOut.at - started.at} ms after started`)
        assert.equal(r.out[0], 'early')
      } finally {
        rec.startedDelayMs = 0
      }
    })

    it('runs as an unprivileged user', async (t) => {
      const r = await run('id -u; id -g')
      if (!isRoot) {
        assert.equal(r.out[0], String(process.getuid!()))
        return t.skip('the test runs as a normal user: tasks run as that user (no switch possible)')
      }
      assert.notEqual(r.out[0], '0')
      assert.notEqual(r.out[1], '0')
      assert.equal(Number(r.out[0]), ex.info.user!.uid)
    })

    it('never runs root code with the task’s environment (LD_PRELOAD)', async (t) => {
      if (!isRoot) return t.skip('the test runs as a normal user: nothing runs as root')
      const src = path.join(base, 'preload.c')
      const so = path.join(base, `preload-${mode}.so`)
      const log = path.join(base, `preload-${mode}.log`)
      fs.writeFileSync(
        src,
        '#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n__attribute__((constructor)) static void f(void) { const char *p = getenv("PRELOAD_LOG"); FILE *o = p ? fopen(p, "a") : 0; if (o) { fprintf(o, "%d\\n", (int)geteuid()); fclose(o); } }\n',
      )
      const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', so, src], { encoding: 'utf8' })
      if (cc.error || cc.status !== 0) return t.skip('no C compiler to build a preload library with')
      fs.chmodSync(so, 0o755)
      fs.writeFileSync(log, '')
      fs.chmodSync(log, 0o666)
      const r = await run('true', {}, { LD_PRELOAD: so, PRELOAD_LOG: log })
      assert.equal(r.exit.exitCode, 0)
      const uids = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
      assert.ok(uids.length > 0, 'the library was loaded by the processes that could see it')
      assert.deepEqual(uids.filter((u) => u === '0'), [], `processes that ran it: ${uids.join(',')}`)
    })

    it('passes the environment exactly and none of the server’s', async () => {
      process.env.CF_LEDGER_EXECUTOR_TEST_SECRET = 'must-not-leak'
      try {
        const r = await run('printf "%s|%s|%s\\n" "$FOO" "$SPACEY" "$UNI"; env | grep -c CF_LEDGER_EXECUTOR_TEST_SECRET; echo "$HOME"', {}, {
          FOO: 'bar',
          SPACEY: 'a b  "c" $HOME',
          UNI: 'héllo ✓',
        })
        assert.equal(r.out[0], 'bar|a b  "c" $HOME|héllo ✓')
        assert.equal(r.out[1], '0')
        assert.ok(r.out[2]!.endsWith('app'), r.out[2])
      } finally {
        delete process.env.CF_LEDGER_EXECUTOR_TEST_SECRET
      }
    })

    it('runs in a private working copy that the task cannot use to change the droplet', async () => {
      const r = await run('cat hello.txt; sh bin/run.sh arg; echo changed > hello.txt; rm -rf bin; touch new; ls; pwd')
      assert.deepEqual(r.out.slice(0, 2), ['hello', 'script ran with arg'])
      assert.equal(r.exit.exitCode, 0)
      assert.equal(fs.readFileSync(path.join(droplet, 'hello.txt'), 'utf8'), 'hello\n')
      assert.ok(fs.existsSync(path.join(droplet, 'bin', 'run.sh')))
      assert.ok(!fs.existsSync(path.join(droplet, 'new')))
      const cwd = r.out.at(-1)!
      if (ex.info.sandbox === 'bwrap') assert.equal(cwd, '/home/vcap/app')
      // A second task gets a fresh copy.
      const again = await run('cat hello.txt; ls bin')
      assert.deepEqual(again.out, ['hello', 'run.sh'])
      // Copies are removed once the task has exited.
      await ex.shutdown()
      assert.ok(!fs.existsSync(ex.workRoot), 'an empty work root is removed at shutdown')
      ex = await newExecutor(rec, { sandbox: mode })
    })

    it('cannot see or change the host outside its working copy (bwrap)', async (t) => {
      if (ex.info.sandbox !== 'bwrap') return t.skip('no sandbox in this mode: the task sees the host filesystem as its user')
      const r = await run(
        [
          `test -e ${droplet} && echo droplet-visible`,
          `test -e ${root} && echo repo-visible`,
          'test -e /root && echo root-visible',
          'test -r /etc/shadow && echo shadow-readable',
          'touch /usr/x 2>/dev/null && echo usr-writable',
          'test -e /etc/shadow && echo shadow-visible',
          'touch /etc/x 2>/dev/null && echo etc-writable',
          'id -un >/dev/null 2>&1 || echo no-user-name',
          'touch /x 2>/dev/null && echo root-writable',
          'ls /proc | grep -c "^[0-9]"',
          'echo tmp > /tmp/t && cat /home/vcap/tmp/t',
          'hostname',
        ].join('; '),
      )
      assert.equal(r.out.length, 3, r.out.join(' | '))
      assert.match(r.out[0]!, /^\d+$/)
      assert.ok(Number(r.out[0]) <= 5, `sees ${r.out[0]} processes`)
      assert.deepEqual(r.out.slice(1), ['tmp', r.g.slice(0, 63)])
    })

    it('keeps stdout and stderr apart, in order, with increasing timestamps', async () => {
      const r = await run('i=0; while [ $i -lt 200 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; printf "no newline"')
      assert.equal(r.out.length, 201)
      assert.equal(r.err.length, 200)
      assert.deepEqual(
        r.out.slice(0, 200),
        Array.from({ length: 200 }, (_, i) => `out${i}`),
      )
      assert.equal(r.out[200], 'no newline')
      assert.deepEqual(
        r.err,
        Array.from({ length: 200 }, (_, i) => `err${i}`),
      )
      for (let i = 1; i < r.lines.length; i++) assert.ok(r.lines[i]!.timestampNs > r.lines[i - 1]!.timestampNs)
      const first = Number(r.lines[0]!.timestampNs / 1_000_000n)
      assert.ok(first >= r.exit.startedAt.getTime() - 5 && first <= r.exit.finishedAt.getTime() + 50)
    })

    it('splits lines longer than 64 KiB', async () => {
      const r = await run('head -c 200000 /dev/zero | tr "\\0" a; echo; echo after')
      assert.deepEqual(
        r.out.map((l) => l.length),
        [65536, 65536, 65536, 200000 - 3 * 65536, 5],
      )
    })

    it('delivers 1,000,000 lines in order, quickly', async (t) => {
      let n = 0
      let ok = true
      const orig = rec.output.bind(rec)
      const g0 = guid('million')
      rec.output = (g, line) => {
        if (g !== g0) return orig(g, line)
        n++
        if (ok && line.text !== String(n)) ok = false
      }
      try {
        const t0 = process.hrtime.bigint()
        ex.submit({ taskGuid: g0, command: 'seq 1 1000000', dropletDir: droplet, env: { PATH: '/usr/bin:/bin' }, limits: LIMITS })
        const exit = await withTimeout(rec.exit(g0), 60_000, 'seq')
        const s = Number(process.hrtime.bigint() - t0) / 1e9
        assert.equal(exit.exitCode, 0)
        assert.equal(n, 1_000_000)
        assert.ok(ok, 'lines in order')
        t.diagnostic(`1,000,000 lines in ${s.toFixed(2)} s = ${Math.round(1e6 / s).toLocaleString('en')} lines/s`)
        assert.ok(s < 20, `${s} s`)
      } finally {
        rec.output = orig
      }
    })

    it('OOM-kills a task that allocates more than its memory limit', async (t) => {
      if (ex.info.memoryLimit === 'none') return t.skip(`no memory cgroup here: ${ex.info.isolation.match(/Memory: [^.]*/)?.[0]}`)
      // tail keeps a line without newlines in memory: 200 MB against a 64 MB limit.
      const r = await run('head -c 200000000 /dev/zero | tail >/dev/null', { memoryMb: 64 })
      assert.equal(r.exit.oomKilled, true)
      assert.notEqual(r.exit.exitCode, 0)
      const ok = await run('head -c 20000000 /dev/zero | tail >/dev/null; echo fine', { memoryMb: 64 })
      assert.equal(ok.exit.oomKilled, false)
      assert.deepEqual(ok.out, ['fine'])
    })

    it('contains a fork bomb with the process limit', async (t) => {
      if (ex.info.pidsLimit === 'none') return t.skip('no process limit here (no pids cgroup and RLIMIT_NPROC would count the server itself)')
      // Counted: dash gives up ("Cannot fork") once the task has 20 processes.
      const counted = await run('n=0; while [ $n -lt 100 ]; do sleep 30 & n=$((n+1)); echo $n; done', { pids: 20, maxRunSeconds: 20 })
      const forked = Number(counted.out.at(-1))
      t.diagnostic(`forked ${forked} background processes with pids: 20`)
      assert.equal(forked, 19, 'the limit counts the task\'s sh and its children, not the sandbox')
      assert.match(counted.err.join('\n'), /fork/i)
      assert.equal(counted.exit.timedOut, false)
      await noSurvivors(ex, counted.g)
      // A real fork bomb: bounded, and gone once the task ends.
      const bomb = await run('b() { b | b & }; b; sleep 2', { pids: 30, maxRunSeconds: 10 })
      assert.equal(bomb.exit.timedOut, false)
      await noSurvivors(ex, bomb.g)
      const after = await run('echo alive')
      assert.deepEqual(after.out, ['alive'])
    })

    it('kills a task that writes more than its disk limit', async () => {
      // One big file: RLIMIT_FSIZE stops it at the limit; the final check reports it.
      const big = await run('head -c 30000000 /dev/zero > big; echo done', { diskMb: 10 })
      assert.equal(big.exit.diskExceeded, true)
      // Many files (each under the limit): the poller kills the task.
      const t0 = Date.now()
      const many = await run('i=0; while :; do head -c 1000000 /dev/zero > f$i || exit 9; i=$((i+1)); sleep 0.01; done', { diskMb: 10 })
      assert.equal(many.exit.diskExceeded, true)
      assert.ok(Date.now() - t0 < 10_000)
      assert.ok(many.exit.exitCode !== 0, JSON.stringify(many.exit))
      // The task's temp directory counts too (/tmp is the host's in the plain-process mode).
      const tmpDir = ex.info.sandbox === 'bwrap' ? '/tmp' : '"$TMPDIR"'
      const tmp = await run(`head -c 30000000 /dev/zero > ${tmpDir}/big`, { diskMb: 10 })
      assert.equal(tmp.exit.diskExceeded, true)
      const small = await run('head -c 1000000 /dev/zero > f; echo ok', { diskMb: 10 })
      assert.equal(small.exit.diskExceeded, false)
    })

    it('stops a task at its maximum run time, SIGKILL after the grace period', async () => {
      const t0 = Date.now()
      const r = await run('sleep 30', { maxRunSeconds: 1 })
      assert.equal(r.exit.timedOut, true)
      assert.ok(Date.now() - t0 < 5000)
      // Ignores SIGTERM: killed after the 300 ms grace period.
      const stubborn = await run("trap '' TERM; echo armed; while :; do sleep 0.1; done", { maxRunSeconds: 1 })
      assert.equal(stubborn.exit.timedOut, true)
      assert.ok(stubborn.exit.signal === 'SIGKILL' || stubborn.exit.exitCode === 137, JSON.stringify(stubborn.exit))
      await noSurvivors(ex, stubborn.g)
    })

    it('cancels a running task and its whole process tree, grandchildren included', async () => {
      const g = guid('cancel')
      ex.submit({
        taskGuid: g,
        command: 'sleep 1000 & (sleep 1001 &) ; setsid sleep 1002 & sh -c "sleep 1003" & echo ready; wait',
        dropletDir: droplet,
        env: { PATH: '/usr/bin:/bin' },
        limits: LIMITS,
      })
      await withTimeout(rec.line(g, /ready/), 10_000, 'ready')
      for (let i = 0; i < 100 && survivors(ex, g).length < 5; i++) await sleep(20)
      assert.ok(survivors(ex, g).length >= 5, `${survivors(ex, g).length} processes before cancel`)
      assert.equal(await ex.cancel(g), true)
      const exit = await withTimeout(rec.exit(g), 10_000, 'cancel')
      assert.equal(exit.cancelled, true)
      await noSurvivors(ex, g)
      assert.equal(await ex.cancel(g), false, 'finished tasks are unknown')
      assert.equal(await ex.cancel('no-such-task'), false)
    })

    it('kills what a task leaves behind when it exits on its own', async () => {
      const r = await run('(setsid sleep 1000 &); sleep 1001 & echo bye')
      assert.equal(r.exit.exitCode, 0)
      await noSurvivors(ex, r.g)
    })

    it('reports a droplet that cannot be copied as an executor error without starting', async () => {
      const g = guid('missing')
      ex.submit({ taskGuid: g, command: 'true', dropletDir: path.join(base, 'no-such-droplet'), env: {}, limits: LIMITS })
      const exit = await withTimeout(rec.exit(g), 10_000, 'missing droplet')
      assert.match(exit.error ?? '', /could not prepare/)
      assert.equal(exit.exitCode, null)
      assert.ok(!rec.events.some((e) => e.guid === g && e.type === 'started'))
    })
  })
}

describe('local executor: queueing, cancel, shutdown, listener failures', () => {
  let droplet: string
  before(() => {
    droplet = makeDroplet()
  })
  const spec = (g: string, command: string, limits: Partial<TaskLimits> = {}) => ({
    taskGuid: g,
    command,
    dropletDir: droplet,
    env: { PATH: '/usr/bin:/bin' },
    limits: { ...LIMITS, ...limits },
  })

  it('starts queued tasks in submission order', async () => {
    const rec = new Recorder()
    const ex = await newExecutor(rec, { concurrency: 1 })
    try {
      const gs = Array.from({ length: 5 }, () => guid('fifo'))
      for (const g of gs) ex.submit(spec(g, 'echo $$'))
      assert.deepEqual(ex.active(), gs)
      await Promise.all(gs.map((g) => withTimeout(rec.exit(g), 20_000, g)))
      assert.deepEqual(
        rec.events.filter((e) => e.type !== 'output').map((e) => `${e.type} ${e.guid}`),
        gs.flatMap((g) => [`started ${g}`, `exited ${g}`]),
      )
    } finally {
      await ex.shutdown()
    }
  })

  it('runs at most `concurrency` tasks at once', async () => {
    const rec = new Recorder()
    const ex = await newExecutor(rec, { concurrency: 2 })
    try {
      const gs = Array.from({ length: 6 }, () => guid('slots'))
      for (const g of gs) ex.submit(spec(g, 'sleep 0.2'))
      assert.deepEqual(ex.active(), gs)
      assert.throws(() => ex.submit(spec(gs[0]!, 'true')), /already submitted/)
      await Promise.all(gs.map((g) => withTimeout(rec.exit(g), 20_000, g)))
      const starts = rec.events.filter((e) => e.type === 'started').map((e) => e.guid)
      assert.deepEqual(new Set(starts.slice(0, 2)), new Set(gs.slice(0, 2)))
      let running = 0
      let peak = 0
      for (const e of rec.events) {
        if (e.type === 'started') peak = Math.max(peak, ++running)
        if (e.type === 'exited') running--
      }
      assert.equal(peak, 2)
      assert.deepEqual(ex.active(), [])
    } finally {
      await ex.shutdown()
    }
  })

  it('cancels a queued task without starting it', async () => {
    const rec = new Recorder()
    const ex = await newExecutor(rec, { concurrency: 1 })
    try {
      const a = guid('busy')
      const b = guid('queued')
      const c = guid('next')
      ex.submit(spec(a, 'sleep 0.5'))
      ex.submit(spec(b, 'echo should-not-run'))
      ex.submit(spec(c, 'echo ran'))
      assert.equal(await ex.cancel(b), true)
      const exit = rec.exits.get(b)!
      assert.equal(exit.cancelled, true)
      assert.equal(exit.exitCode, null)
      assert.ok(!rec.events.some((e) => e.guid === b && e.type === 'started'))
      await withTimeout(rec.exit(c), 10_000, 'next')
      assert.deepEqual(rec.text(c), ['ran'])
      assert.deepEqual(
        rec.events.filter((e) => e.type === 'started').map((e) => e.guid),
        [a, c],
      )
    } finally {
      await ex.shutdown()
    }
  })

  it('shuts down: running tasks are killed and reported, queued ones dropped silently', async () => {
    const rec = new Recorder()
    const ex = await newExecutor(rec, { concurrency: 1 })
    const a = guid('long')
    const b = guid('waiting')
    ex.submit(spec(a, 'sleep 1000 & echo up; wait'))
    ex.submit(spec(b, 'true'))
    await withTimeout(rec.line(a, /up/), 10_000, 'up')
    await withTimeout(ex.shutdown(), 10_000, 'shutdown')
    const exit = rec.exits.get(a)!
    assert.equal(exit.shutdown, true)
    assert.equal(exit.cancelled, false)
    assert.equal(rec.exits.has(b), false)
    await noSurvivors(ex, a)
    assert.throws(() => ex.submit(spec(guid('late'), 'true')), /shut down/)
  })

  it('logs listener failures and keeps going', async () => {
    const rec = new Recorder()
    rec.failStarted = true
    rec.failOutput = true
    rec.failExited = true
    const errors: string[] = []
    const ex = await LocalExecutor.create(
      { workRoot: fs.mkdtempSync(path.join(base, 'work-')), concurrency: 1, cancelGraceMs: 300, network: true },
      rec,
      { ...quiet, error: (_o: object, m: string) => errors.push(m) },
    )
    try {
      const a = guid('a')
      const b = guid('b')
      ex.submit(spec(a, 'echo 1; echo 2; exit 4'))
      ex.submit(spec(b, 'echo 3'))
      assert.equal((await withTimeout(rec.exit(a), 10_000, 'a')).exitCode, 4)
      await withTimeout(rec.exit(b), 10_000, 'b')
      assert.deepEqual(rec.text(a), ['1', '2'])
      assert.ok(errors.some((m) => /started failed/.test(m)))
      assert.ok(errors.some((m) => /output failed/.test(m)))
      assert.ok(errors.some((m) => /exited failed/.test(m)))
      assert.equal(errors.filter((m) => /output failed/.test(m)).length, 2, 'one output error logged per task')
    } finally {
      await ex.shutdown()
    }
  })

  it('gives tasks the network by default and only a private loopback when turned off', async (t) => {
    const server = net.createServer((s) => s.end('pong\n'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    const probe = `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), 2); print(s.recv(10).decode().strip())" 2>/dev/null || echo unreachable`
    try {
      const rec = new Recorder()
      const on = await newExecutor(rec)
      const off = await newExecutor(rec, { network: false })
      try {
        if (!fs.existsSync('/usr/bin/python3')) return t.skip('no /usr/bin/python3 to open a socket with')
        const g1 = guid('net-on')
        on.submit(spec(g1, probe))
        await rec.exit(g1)
        assert.deepEqual(rec.text(g1), ['pong'])
        if (off.info.sandbox !== 'bwrap') return t.skip('no sandbox here, so no network namespace: network: false cannot be enforced')
        assert.equal(off.info.network, false)
        const g2 = guid('net-off')
        off.submit(spec(g2, probe))
        await rec.exit(g2)
        assert.deepEqual(rec.text(g2), ['unreachable'])
      } finally {
        await on.shutdown()
        await off.shutdown()
      }
    } finally {
      server.close()
    }
  })
})

describe('crash recovery', () => {
  for (const mode of ['auto', 'none'] as const) {
    it(`kills what a SIGKILLed server left running [sandbox ${mode}]`, async () => {
      const droplet = makeDroplet()
      const workRoot = fs.mkdtempSync(path.join(base, 'crash-'))
      const script = path.join(base, `crash-${mode}.mts`)
      fs.writeFileSync(
        script,
        `import { LocalExecutor } from ${JSON.stringify(path.join(root, 'src/executor/local-executor.ts'))}
const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const ex = await LocalExecutor.create({ workRoot: ${JSON.stringify(workRoot)}, concurrency: 1, cancelGraceMs: 100, network: true, sandbox: ${JSON.stringify(mode)} }, {
  async started() {},
  output(_g, l) { if (l.text === 'ready') console.log('READY ' + ex.id) },
  async exited() {},
}, quiet)
ex.submit({ taskGuid: 'crashy', command: '(setsid sleep 1000 &); sleep 1001 & sh -c "sleep 1002" & echo ready; wait', dropletDir: ${JSON.stringify(droplet)}, env: { PATH: '/usr/bin:/bin' }, limits: { memoryMb: 128, diskMb: 128, pids: 64, maxRunSeconds: 0 } })
ex.submit({ taskGuid: 'queued', command: 'true', dropletDir: ${JSON.stringify(droplet)}, env: {}, limits: { memoryMb: 128, diskMb: 128, pids: 64, maxRunSeconds: 0 } })
`,
      )
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
      const id = await withTimeout(
        new Promise<string>((resolve) => {
          let buf = ''
          child.stdout.on('data', (d: Buffer) => {
            buf += d.toString()
            const m = buf.match(/READY (\w+)/)
            if (m) resolve(m[1]!)
          })
        }),
        20_000,
        'child executor ready',
      )
      assert.equal(id, executorIdOf(workRoot))
      const marker = `CF_LEDGER_TASK_ID=${id}:crashy`
      for (let i = 0; i < 100 && pidsWithEnv(marker).length < 4; i++) await sleep(20)
      assert.ok(pidsWithEnv(marker).length >= 4, 'the task and its children run')
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      await sleep(200)
      const left = pidsWithEnv(marker)
      // The sandbox dies with its parent; plain processes that left the process group survive.
      const rec = new Recorder()
      const ex = await LocalExecutor.create({ workRoot, concurrency: 1, cancelGraceMs: 100, network: true, sandbox: mode }, rec, quiet)
      try {
        for (const p of left) assert.ok(ex.startupReap.killedPids.includes(p) || !fs.existsSync(`/proc/${p}`), `pid ${p} reaped`)
        for (let i = 0; i < 50 && pidsWithEnv(marker).length; i++) await sleep(20)
        assert.deepEqual(pidsWithEnv(marker), [])
        assert.ok(ex.startupReap.removedWorkDirs.includes('crashy'))
        // Only this executor's own read-only /etc copy is left.
        assert.deepEqual(
          fs.readdirSync(workRoot).filter((n) => !n.startsWith(`.etc-${process.pid}-`)),
          [],
        )
        if (ex.info.memoryLimit === 'cgroup-v1') {
          for (const m of ['memory', 'pids']) {
            const dir = `/sys/fs/cgroup/${m}/cf-ledger-${id}/crashy`
            assert.ok(!fs.existsSync(dir), `${dir} removed`)
          }
        }
      } finally {
        await ex.shutdown()
      }
    })
  }
})

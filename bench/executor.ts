// The local executor on its own (no server, no store): task start latency and output throughput,
// each next to the bare cost measured in the same run.
//   node --import tsx bench/executor.ts [--n 200] [--lines 1000000] [--modes auto,none]
// - latency: submit → started and submit → exited for `true`, vs child_process.spawn('sh', ['-c', 'true'])
//   (spawn event / exit); one at a time, the rows interleaved run by run, after 10 warm-up runs;
// - throughput: `seq 1 N` through the executor (lines delivered to the listener), vs the same
//   command through a bare pipe (bytes only) and a bare pipe + the executor's line splitter.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ExecutorListener, TaskExit, TaskLimits } from '../src/executor/executor.ts'
import { LineSplitter, TaskClock } from '../src/executor/line-reader.ts'
import { LocalExecutor } from '../src/executor/local-executor.ts'
import { fmt, ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ n: '200', lines: '1000000', modes: 'auto,none' })
const N = Math.min(10_000, Math.max(1, args.num('n')))
const LINES = Math.min(10_000_000, Math.max(1, args.num('lines')))
const MODES = args.list('modes') as Array<'auto' | 'none'>
const WARMUP = 10
const LIMITS: TaskLimits = { memoryMb: 512, diskMb: 1024, pids: 1024, maxRunSeconds: 0 }

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-bench-executor-'))
fs.chmodSync(base, 0o711)
const droplet = path.join(base, 'droplet')
fs.mkdirSync(droplet, { mode: 0o755 })
fs.writeFileSync(path.join(droplet, 'run.sh'), 'echo hi\n', { mode: 0o755 })
fs.writeFileSync(path.join(droplet, 'data.txt'), 'x'.repeat(10_000))
fs.mkdirSync(path.join(droplet, 'lib'))
fs.writeFileSync(path.join(droplet, 'lib', 'a.txt'), 'a')

class Timing implements ExecutorListener {
  lines = 0
  private readonly waiters = new Map<string, { started: (t: bigint) => void; exited: (e: TaskExit) => void }>()
  expect(guid: string): { started: Promise<bigint>; exited: Promise<TaskExit> } {
    let s!: (t: bigint) => void
    let e!: (x: TaskExit) => void
    const started = new Promise<bigint>((r) => (s = r))
    const exited = new Promise<TaskExit>((r) => (e = r))
    this.waiters.set(guid, { started: s, exited: e })
    return { started, exited }
  }
  async started(guid: string): Promise<void> {
    this.waiters.get(guid)?.started(now())
  }
  output(): void {
    this.lines++
  }
  async exited(guid: string, exit: TaskExit): Promise<void> {
    this.waiters.get(guid)?.exited(exit)
    this.waiters.delete(guid)
  }
}

/** One bare `sh -c true`: [spawn event, exit] in ms. */
async function bareSpawnOnce(): Promise<[number, number]> {
  const t0 = now()
  const child = spawn('sh', ['-c', 'true'], { stdio: 'ignore' })
  await new Promise<void>((r) => child.once('spawn', () => r()))
  const t1 = now()
  await new Promise((r) => child.once('exit', r))
  return [ms(t1 - t0), ms(now() - t0)]
}

let seq = 0
/** One `true` through the executor: [submit → started, submit → exited] in ms. */
async function executorOnce(ex: LocalExecutor, timing: Timing): Promise<[number, number]> {
  const guid = `bench-${++seq}`
  const w = timing.expect(guid)
  const t0 = now()
  ex.submit({ taskGuid: guid, command: 'true', dropletDir: droplet, env: { PATH: '/usr/bin:/bin' }, limits: LIMITS })
  const t1 = await w.started
  const exit = await w.exited
  const t2 = now()
  if (exit.exitCode !== 0) throw new Error(`true failed: ${JSON.stringify(exit)}`)
  return [ms(t1 - t0), ms(t2 - t0)]
}

async function executorThroughput(ex: LocalExecutor, timing: Timing, lines: number): Promise<number> {
  const guid = `bench-lines-${++seq}`
  const w = timing.expect(guid)
  timing.lines = 0
  const t0 = now()
  ex.submit({ taskGuid: guid, command: `seq 1 ${lines}`, dropletDir: droplet, env: { PATH: '/usr/bin:/bin' }, limits: LIMITS })
  await w.exited
  const s = ms(now() - t0) / 1000
  if (timing.lines !== lines) throw new Error(`got ${timing.lines} lines, expected ${lines}`)
  return lines / s
}

async function barePipe(lines: number, split: boolean): Promise<number> {
  const t0 = now()
  const child = spawn('sh', ['-c', `seq 1 ${lines}`], { stdio: ['ignore', 'pipe', 'ignore'] })
  let count = 0
  let bytes = 0
  const splitter = new LineSplitter(new TaskClock(), () => count++)
  child.stdout.on('data', (c: Buffer) => {
    bytes += c.length
    if (split) splitter.push(c)
  })
  await new Promise((r) => child.once('close', r))
  splitter.end()
  const s = ms(now() - t0) / 1000
  if (split && count !== lines) throw new Error(`split ${count} lines, expected ${lines}`)
  if (!bytes) throw new Error('no output')
  return lines / s
}

type Phases = Record<'queuedMs' | 'prepareMs' | 'spawnMs' | 'runMs' | 'drainMs' | 'checkMs', number>
const logger = {
  debug() {},
  info() {},
  warn: (o: object, m: string) => console.error(m, o),
  error: (o: object, m: string) => console.error(m, o),
}

console.log(`executor bench: ${N} runs of \`true\` per row (after ${WARMUP} warm-up runs), ${LINES.toLocaleString('en')} lines; ${os.cpus().length} CPUs, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`)

interface Subject {
  readonly label: string
  readonly once: () => Promise<[number, number]>
  readonly lines?: () => Promise<number>
  readonly ex?: LocalExecutor
  readonly start: number[]
  readonly total: number[]
  readonly rates: number[]
  readonly phases: Phases[]
}
const subjects: Subject[] = [
  { label: 'bare spawn sh -c true / bare pipe', once: bareSpawnOnce, lines: () => barePipe(LINES, false), start: [], total: [], rates: [], phases: [] },
  { label: 'bare pipe + line splitter', once: async () => [NaN, NaN], lines: () => barePipe(LINES, true), start: [], total: [], rates: [], phases: [] },
]
for (const mode of MODES) {
  const timing = new Timing()
  const mine: Phases[] = []
  const ex = await LocalExecutor.create(
    { workRoot: fs.mkdtempSync(path.join(base, 'work-')), concurrency: 1, cancelGraceMs: 1000, network: true, sandbox: mode },
    timing,
    {
      ...logger,
      debug: (o: object, m: string) => {
        if (m === 'task finished') mine.push(o as Phases)
      },
    },
  )
  subjects.push({
    label: `executor [${ex.info.sandbox}, ${ex.info.memoryLimit}]`,
    once: () => executorOnce(ex, timing),
    lines: () => executorThroughput(ex, timing, LINES),
    ex,
    start: [],
    total: [],
    rates: [],
    phases: mine,
  })
}

// Interleaved, so that whatever else the machine is doing weighs on every row alike.
for (let i = 0; i < N + WARMUP; i++) {
  for (const s of subjects) {
    const [a, b] = await s.once()
    if (i >= WARMUP && Number.isFinite(a)) {
      s.start.push(a)
      s.total.push(b)
    }
  }
}
const ROUNDS = 3
for (let r = 0; r < ROUNDS; r++) for (const s of subjects) s.rates.push(await s.lines!())
for (const s of subjects) await s.ex?.shutdown()

const bare = subjects[0]!
const bs = summarize(bare.start)
const bt = summarize(bare.total)
const median = (xs: number[]) => summarize(xs).p50
console.log('\nstart latency, ms (interleaved runs; ratios are p50 over the bare spawn p50)')
table(
  ['', 'started p50', 'started p99', 'exited p50', 'exited p99', 'started ×', 'exited ×'],
  subjects
    .filter((s) => s.start.length)
    .map((s) => {
      const a = summarize(s.start)
      const b = summarize(s.total)
      return [s === bare ? 'bare spawn sh -c true' : s.label, a.p50, a.p99, b.p50, b.p99, fmt(a.p50 / bs.p50), fmt(b.p50 / bt.p50)]
    }),
)
console.log(
  '\nwhere the executor time goes, p50 ms: queue; prepare = working copy ‖ cgroups; spawn = fork+exec of the wrapper; run = cgroup move ‖ `started`, then sandbox set-up, sh, teardown; drain = pipes; check = OOM and disk',
)
const keys = ['queuedMs', 'prepareMs', 'spawnMs', 'runMs', 'drainMs', 'checkMs'] as const
table(
  ['', 'queue', 'prepare', 'spawn', 'run', 'drain', 'check'],
  subjects.filter((s) => s.ex).map((s) => [s.label, ...keys.map((k) => summarize(s.phases.slice(WARMUP, WARMUP + N).map((p) => p[k])).p50)]),
)
const bareRate = median(bare.rates)
console.log(`\noutput throughput, ${LINES.toLocaleString('en')} lines of \`seq\` (median of ${ROUNDS} interleaved rounds; ratio to the bare pipe)`)
table(
  ['', 'lines/s', '×'],
  subjects.map((s) => [s === bare ? 'bare pipe (bytes only)' : s.label, Math.round(median(s.rates)).toLocaleString('en'), fmt(median(s.rates) / bareRate)]),
)
fs.rmSync(base, { recursive: true, force: true })

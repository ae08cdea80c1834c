// Gives each drain line to the task run that wrote it, by what Loggregator's envelopes carry
// (docs/collect.md, "Attribution"): the app id, `source_type` APP/TASK/<name>, the instance and the
// timestamp. Diego names a task's log source after the task's name, not its guid, so two runs of
// one name at once cannot be told apart: such lines are kept aside as ambiguous, naming every
// candidate, never given to one of them by a guess. A `task_guid` tag (cf-ledger's own drains
// send it) settles it exactly.
import crypto from 'node:crypto'
import type { OutputStore, TaskOutputWriter } from '../logs/output-store.ts'
import { ERR, SRC_PLATFORM, SRC_TASK } from '../logs/records.ts'
import type { TaskOutputSummary } from '../logs/sink.ts'
import type { SyslogMessage } from '../syslog/parse.ts'

export interface RunWindow {
  readonly taskGuid: string
  readonly foundation: string
  readonly appGuid: string
  readonly name: string
  /** CC's created_at (whole seconds): lines from one second before count. */
  readonly createdAtMs: number
  /** When the foundation said it ended (updated_at of the terminal state); null while it runs. */
  endedAtMs: number | null
}

export interface Unattributed {
  readonly appGuid: string
  readonly sourceType: string
  readonly instanceId: string
  readonly timestampMicros: number
  readonly reason: 'ambiguous' | 'unknown' | 'late'
  readonly candidates: readonly string[]
  readonly line: string
}

interface RunOutput {
  readonly window: RunWindow
  writer: TaskOutputWriter | undefined
  readonly hash: crypto.Hash
  /** Lines not yet hashed (hashing per line costs more than the rest of a line's handling). */
  acc: string
  out: number
  err: number
  bytes: number
  firstLineMicros: number | null
  exit: { status: number; atMicros: number } | null
}

/** The end of a run's output as the collector saw it. */
export interface CollectedOutput {
  readonly summary: TaskOutputSummary | undefined
  readonly exitStatus: number | null
  readonly exitAtMicros: number | null
  readonly firstLineMicros: number | null
}

const TASK_PREFIX = 'APP/TASK/'
const EXIT = /^Exit status (\d+)( \(out of memory\))?$/
/** Lines that arrive before the collector knows their run wait this long, then are set aside. */
const PENDING_MS = 60_000
const SKEW_MS = 1000

export class Attributor {
  private readonly runs = new Map<string, RunOutput>()
  /** app guid + NUL + task name → the runs of that name. */
  private readonly byName = new Map<string, RunOutput[]>()
  private readonly pending: { msg: SyslogMessage; receivedAt: number; key: string }[] = []
  private readonly aside: Unattributed[] = []
  readonly stats = { lines: 0, attributed: 0, ambiguous: 0, unknown: 0, ignored: 0, late: 0 }

  constructor(
    private readonly output: OutputStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** A run the collector learned of; lines held for it are placed at the next `settle`. */
  register(w: RunWindow): void {
    const existing = this.runs.get(w.taskGuid)
    if (existing) {
      existing.window.endedAtMs = w.endedAtMs
      return
    }
    const run: RunOutput = { window: { ...w }, writer: undefined, hash: crypto.createHash('sha256'), acc: '', out: 0, err: 0, bytes: 0, firstLineMicros: null, exit: null }
    this.runs.set(w.taskGuid, run)
    const key = `${w.appGuid}\0${w.name}`
    this.byName.set(key, [...(this.byName.get(key) ?? []), run])
  }

  /**
   * Places the held lines; called after a pass registered every run it found, so a line is never
   * given to the first of two overlapping runs only because the second was registered later.
   */
  settle(): void {
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!
      if (this.place(p.msg, p.key, p.msg.structuredData['tags@47450']?.task_guid)) this.pending.splice(i, 1)
      else i++
    }
  }

  ended(taskGuid: string, endedAtMs: number): void {
    const run = this.runs.get(taskGuid)
    if (run) run.window.endedAtMs = endedAtMs
  }

  /** Whether the run's `Exit status` line came (its output is then complete). */
  exitSeen(taskGuid: string): boolean {
    return this.runs.get(taskGuid)?.exit != null
  }

  /** One parsed drain message. */
  line(msg: SyslogMessage): void {
    this.stats.lines++
    const tags = msg.structuredData['tags@47450'] ?? {}
    const sourceType = tags.source_type ?? procIdSourceType(msg.procId)
    if (!sourceType.startsWith(TASK_PREFIX)) {
      this.stats.ignored++
      return
    }
    const appGuid = tags.app_id ?? msg.appName
    const key = `${appGuid}\0${sourceType.slice(TASK_PREFIX.length)}`
    if (!this.place(msg, key, tags.task_guid)) this.pending.push({ msg, receivedAt: this.now(), key })
  }

  /** Gives the line to its run; false when no run is known for it yet. */
  private place(msg: SyslogMessage, key: string, taskGuid: string | undefined): boolean {
    const exact = taskGuid ? this.runs.get(taskGuid) : undefined
    const candidates = exact ? [exact] : this.candidates(key, msg.timestampMicros)
    if (candidates.length === 0) return false
    if (candidates.length > 1) {
      this.stats.ambiguous++
      this.setAside(msg, key, 'ambiguous', candidates.map((c) => c.window.taskGuid))
      return true
    }
    this.append(candidates[0]!, msg)
    return true
  }

  private candidates(key: string, micros: number | null): RunOutput[] {
    const runs = this.byName.get(key)
    if (!runs) return []
    const t = micros === null ? this.now() : micros / 1000
    if (runs.length === 1) return within(runs[0]!, t) ? runs : []
    const out: RunOutput[] = []
    for (const r of runs) if (within(r, t)) out.push(r)
    return out
  }

  private append(run: RunOutput, msg: SyslogMessage): void {
    if (!this.runs.has(run.window.taskGuid)) {
      this.stats.late++
      this.setAside(msg, `${run.window.appGuid}\0${run.window.name}`, 'late', [run.window.taskGuid])
      return
    }
    this.stats.attributed++
    const micros = msg.timestampMicros ?? this.now() * 1000
    const isErr = (msg.priority & 7) <= 3
    const text = msg.message
    const exit = text.startsWith('Exit status ') ? EXIT.exec(text) : null
    run.writer ??= this.output.begin(run.window.taskGuid, run.window.appGuid)
    this.output.append(run.writer, exit ? SRC_PLATFORM : isErr ? SRC_TASK | ERR : SRC_TASK, BigInt(micros) * 1000n, text)
    if (exit) {
      run.exit = { status: Number(exit[1]), atMicros: micros }
      return
    }
    // The hash covers the task's own lines, each followed by "\n", as the trail's summary does.
    run.firstLineMicros ??= micros
    if (isErr) run.err++
    else run.out++
    run.acc += text
    run.acc += '\n'
    if (run.acc.length > 65536) flushHash(run)
  }

  private setAside(msg: SyslogMessage, key: string, reason: Unattributed['reason'], candidates: string[]): void {
    const [appGuid, name] = key.split('\0') as [string, string]
    this.aside.push({
      appGuid,
      sourceType: `${TASK_PREFIX}${name}`,
      instanceId: msg.structuredData['tags@47450']?.instance_id ?? procIdInstance(msg.procId),
      timestampMicros: msg.timestampMicros ?? this.now() * 1000,
      reason,
      candidates,
      line: msg.message,
    })
  }

  /** Lines set aside since the last call (ambiguous, late, or waiting longer than a minute for a run). */
  takeAside(): Unattributed[] {
    const now = this.now()
    while (this.pending.length && now - this.pending[0]!.receivedAt > PENDING_MS) {
      const p = this.pending.shift()!
      this.stats.unknown++
      this.setAside(p.msg, p.key, 'unknown', [])
    }
    // Finished runs stay known for ten minutes, so their stragglers are named 'late'.
    for (const [key, runs] of this.byName) {
      const kept = runs.filter((r) => this.runs.has(r.window.taskGuid) || (r.window.endedAtMs ?? now) > now - 600_000)
      if (kept.length === 0) this.byName.delete(key)
      else if (kept.length !== runs.length) this.byName.set(key, kept)
    }
    return this.aside.splice(0)
  }

  /** Ends a run's output: stores what is left and returns its summary; later lines are 'late'. */
  async finish(taskGuid: string): Promise<CollectedOutput> {
    const run = this.runs.get(taskGuid)
    if (!run) return { summary: undefined, exitStatus: null, exitAtMicros: null, firstLineMicros: null }
    this.runs.delete(taskGuid)
    let summary: TaskOutputSummary | undefined
    flushHash(run)
    if (run.writer) {
      const s = { outLines: run.out, errLines: run.err, bytes: run.bytes, sha256: run.hash.digest('hex'), droppedLines: 0 }
      await this.output.finish(run.writer, s)
      summary = { ...s, truncated: run.writer.truncatedRecords > 0 }
    }
    return { summary, exitStatus: run.exit?.status ?? null, exitAtMicros: run.exit?.atMicros ?? null, firstLineMicros: run.firstLineMicros }
  }
}

/** Whether a line at `t` (ms) falls in the run's window. */
function within(r: RunOutput, t: number): boolean {
  return t >= r.window.createdAtMs - SKEW_MS && (r.window.endedAtMs === null || t <= r.window.endedAtMs + SKEW_MS + 1000)
}

function flushHash(run: RunOutput): void {
  if (!run.acc) return
  run.hash.update(run.acc)
  run.bytes += Buffer.byteLength(run.acc)
  run.acc = ''
}

/** `[APP/TASK/migrate/0]` → `APP/TASK/migrate` (when the message has no tags). */
function procIdSourceType(procId: string): string {
  const inner = procId.replace(/^\[|\]$/g, '')
  const slash = inner.lastIndexOf('/')
  return slash > 0 ? inner.slice(0, slash) : inner
}

function procIdInstance(procId: string): string {
  const inner = procId.replace(/^\[|\]$/g, '')
  const slash = inner.lastIndexOf('/')
  return slash > 0 ? inner.slice(slash + 1) : ''
}

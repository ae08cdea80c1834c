// Durable per-task output. Lines are packed into chunks in memory and written by one background
// queue, so a task never waits for the database: appending is a buffer copy. Caps (per task,
// pending memory, total, age) cut what is stored, never what is counted, and every cut is
// recorded on the task's summary row (task_outputs) so truncation is visible. The chunk format and
// a task's writing state are in output-chunks.ts, the readers in output-read.ts.
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { TaskOutputRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import type { LogConfig } from './config.ts'
import { decodeChunk, HEADER_BYTES, type OutputRecord } from './records.ts'
import { packChunk, TaskOutputWriter, type FinalSummary, type SealedChunk, type TruncationReason } from './output-chunks.ts'
import { outputSummary, storedChunksFrom, storedNewestFirst, storedRecords } from './output-read.ts'

/** What begin() hands out, named here for the store's callers. */
export type { TaskOutputWriter } from './output-chunks.ts'
import { retryUntilLands } from '../store/retry.ts'
import { isUniqueViolation } from '../store/store.ts'

export class OutputStore {
  private readonly queue: (() => Promise<void>)[] = []
  private running = false
  private readonly writers = new Map<string, TaskOutputWriter>()
  private timer: NodeJS.Timeout | undefined
  private sweepTimer: NodeJS.Timeout | undefined
  private sweeping: Promise<void> | undefined
  private readonly closing = new AbortController()
  /** Sealed chunks waiting for the database, all tasks. */
  pendingBytes = 0
  /** Stored output of all tasks (sum of task_outputs.stored_bytes). */
  totalStoredBytes = 0
  /** Output bytes not stored since start (limits, store errors), for /metrics. */
  droppedBytes = 0

  constructor(
    private readonly db: Db,
    private readonly cfg: LogConfig,
    private readonly logger: Logger,
    /** Told after each chunk is stored, and (seq 'end') after the summary: other servers follow. */
    private readonly onStored: (taskGuid: string, seq: number | 'end') => void = () => undefined,
  ) {}

  /** Starts the timers. Output left 'running' by a stopped server is marked by `interrupt` (task recovery). */
  async init(): Promise<void> {
    const row = await this.db
      .selectFrom('task_outputs')
      .select(sql<string | number | null>`sum(stored_bytes)`.as('total'))
      .executeTakeFirst()
    this.totalStoredBytes = Number(row?.total ?? 0)
    this.timer = setInterval(() => this.sealAll(), this.cfg.flushMs)
    this.timer.unref()
    this.sweepTimer = setInterval(() => void this.sweep(), this.cfg.sweepSeconds * 1000)
    this.sweepTimer.unref()
    void this.sweep()
  }

  /** Marks the output of tasks that recovery failed (their server is gone) as interrupted. */
  async interrupt(taskGuids: readonly string[]): Promise<void> {
    if (!taskGuids.length) return
    await this.db.updateTable('task_outputs').set({ state: 'interrupted' }).where('task_guid', 'in', taskGuids).where('state', '=', 'running').execute()
  }

  writer(taskGuid: string): TaskOutputWriter | undefined {
    return this.writers.get(taskGuid)
  }

  /** Starts a task's output (again, for a task resubmitted after a restart). */
  begin(taskGuid: string, appGuid: string): TaskOutputWriter {
    const w = new TaskOutputWriter(taskGuid, appGuid)
    this.writers.set(taskGuid, w)
    const startedAt = new Date()
    void this.enqueue(async () => {
      await this.db.transaction().execute(async (tx) => {
        // A task resubmitted after a restart starts its output again.
        const old = await tx.selectFrom('task_outputs').select('stored_bytes').where('task_guid', '=', taskGuid).executeTakeFirst()
        if (old) this.totalStoredBytes -= Number(old.stored_bytes)
        await tx.deleteFrom('task_output_chunks').where('task_guid', '=', taskGuid).execute()
        await sql`
          insert into task_outputs (task_guid, app_guid, state, started_at)
          values (${taskGuid}, ${appGuid}, 'running', ${startedAt})
          on conflict (task_guid) do update set state = 'running', started_at = excluded.started_at, finished_at = null,
            out_lines = 0, err_lines = 0, bytes = 0, sha256 = null, dropped_lines = 0, stored_records = 0,
            stored_bytes = 0, chunks = 0, truncated_records = 0, truncated_bytes = 0, truncation_reasons = '[]'`.execute(tx)
      })
    })
    return w
  }

  /** Appends one record; returns its index in the task's output. Never waits. */
  append(w: TaskOutputWriter, kind: number, timestamp: bigint, text: string): number {
    const index = w.nextRecord++
    if (w.finished) return index
    const cap = this.cfg.taskMaxBytes
    if (w.storedBytes + HEADER_BYTES + text.length > cap || (w.storedBytes + HEADER_BYTES + text.length * 3 > cap && w.storedBytes + HEADER_BYTES + Buffer.byteLength(text) > cap)) {
      this.skip(w, 'task_cap', text)
      return index
    }
    if (this.pendingBytes > this.cfg.maxPendingBytes) {
      this.skip(w, 'backpressure', text)
      return index
    }
    if (w.gap && w.builder.records > 0) this.seal(w)
    w.gap = false
    let n = w.builder.append(index, kind, timestamp, text)
    if (n < 0) {
      this.seal(w)
      n = w.builder.append(index, kind, timestamp, text)
      if (n < 0) {
        this.skip(w, 'record_too_large', text)
        return index
      }
    }
    w.storedBytes += n
    w.storedRecords++
    return index
  }

  private skip(w: TaskOutputWriter, reason: TruncationReason, text: string): void {
    w.truncatedRecords++
    w.truncatedBytes += HEADER_BYTES + Buffer.byteLength(text)
    this.droppedBytes += HEADER_BYTES + Buffer.byteLength(text)
    w.reasons.add(reason)
    w.gap = true
  }

  private seal(w: TaskOutputWriter): void {
    if (w.builder.records === 0) return
    const c = w.builder.seal()
    const chunk: SealedChunk = { seq: w.seq++, ...c }
    w.pending.push(chunk)
    this.pendingBytes += chunk.data.length
    void this.enqueue(() => this.insertChunk(w, chunk))
  }

  private sealAll(): void {
    for (const w of this.writers.values()) this.seal(w)
  }

  private async insertChunk(w: TaskOutputWriter, c: SealedChunk): Promise<void> {
    try {
      await this.land(`output chunk ${c.seq} of task ${w.taskGuid}`, () => this.insertChunkOnce(w, c))
      this.totalStoredBytes += c.data.length
      this.onStored(w.taskGuid, c.seq)
    } catch (err) {
      this.logger.error({ err, task: w.taskGuid }, 'could not store task output')
      w.storedRecords -= c.records
      w.storedBytes -= c.data.length
      w.truncatedRecords += c.records
      w.truncatedBytes += c.data.length
      w.reasons.add('store_error')
      this.droppedBytes += c.data.length
    } finally {
      w.pending.shift()
      this.pendingBytes -= c.data.length
    }
    if (this.totalStoredBytes > this.cfg.totalMaxBytes) void this.sweep()
  }

  /** Retried while the database is away (in queue order); stops retrying once the store is closing. */
  private land(what: string, write: () => Promise<void>): Promise<void> {
    return retryUntilLands(what, write, { logger: this.logger, signal: this.closing.signal })
  }

  private async insertChunkOnce(w: TaskOutputWriter, c: SealedChunk): Promise<void> {
    try {
      await sql`
        with c as (
          insert into task_output_chunks (task_guid, seq, first_record, records, data)
          values (${w.taskGuid}, ${c.seq}, ${c.firstRecord}, ${c.records}, decode(${packChunk(c.data)}, 'base64'))
        )
        update task_outputs set stored_records = stored_records + ${c.records},
          stored_bytes = stored_bytes + ${c.data.length}, chunks = chunks + 1
        where task_guid = ${w.taskGuid}`.execute(this.db)
    } catch (err) {
      // A retry after a commit whose answer was lost: the chunk (and its count) is already there.
      if (!isUniqueViolation(err)) throw err
    }
  }

  /** Writes what is left and the summary; resolves once both are durable. */
  async finish(w: TaskOutputWriter, s: FinalSummary): Promise<void> {
    this.seal(w)
    w.finished = true
    const finishedAt = new Date()
    await this.enqueue(async () => {
      await this.land(`output summary of task ${w.taskGuid}`, async () => {
        await sql`
        update task_outputs set state = 'complete', finished_at = ${finishedAt}, out_lines = ${s.outLines},
          err_lines = ${s.errLines}, bytes = ${s.bytes}, sha256 = ${s.sha256}, dropped_lines = ${s.droppedLines},
          truncated_records = truncated_records + ${w.truncatedRecords}, truncated_bytes = truncated_bytes + ${w.truncatedBytes},
          truncation_reasons = ${JSON.stringify([...w.reasons])}::jsonb
        where task_guid = ${w.taskGuid}`.execute(this.db)
      })
      this.onStored(w.taskGuid, 'end')
    })
    this.writers.delete(w.taskGuid)
  }

  /** Waits until everything queued so far is written. */
  flush(): Promise<void> {
    this.sealAll()
    return this.enqueue(async () => {})
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(async () => {
        try {
          await op()
        } catch (err) {
          this.logger.error({ err }, 'task output store operation failed')
        }
        resolve()
      })
      void this.drain()
    })
  }

  private async drain(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      while (this.queue.length) await this.queue.shift()!()
    } finally {
      this.running = false
    }
  }

  summary(taskGuid: string): Promise<TaskOutputRow | undefined> {
    return outputSummary(this.db, taskGuid)
  }

  /** Stored records with index ≥ `from`, oldest first (output-read.ts). */
  stored(taskGuid: string, from = 0): AsyncGenerator<OutputRecord[]> {
    return storedRecords(this.db, taskGuid, from)
  }

  chunksFrom(taskGuid: string, fromSeq: number): AsyncGenerator<{ seq: number; records: OutputRecord[] }> {
    return storedChunksFrom(this.db, taskGuid, fromSeq)
  }

  storedNewestFirst(taskGuid: string): AsyncGenerator<OutputRecord[]> {
    return storedNewestFirst(this.db, taskGuid)
  }

  /** Records of a running task not yet in the database. */
  inMemory(taskGuid: string): OutputRecord[] {
    const w = this.writers.get(taskGuid)
    if (!w) return []
    const out: OutputRecord[] = []
    for (const c of w.pending) out.push(...decodeChunk(c.data, c.firstRecord))
    out.push(...w.builder.peek())
    return out
  }

  /** Applies retention by age and by total size; each cut is recorded on the task's row. */
  sweep(): Promise<void> {
    this.sweeping ??= this.runSweep().finally(() => (this.sweeping = undefined))
    return this.sweeping
  }

  private async runSweep(): Promise<void> {
    try {
      if (this.cfg.maxAgeSeconds > 0) {
        const cutoff = new Date(Date.now() - this.cfg.maxAgeSeconds * 1000)
        const old = await this.db
          .selectFrom('task_outputs')
          .select('task_guid')
          .where('finished_at', '<', cutoff)
          .where('stored_records', '>', 0)
          .execute()
        for (const r of old) await this.dropStored(r.task_guid, 'age')
      }
      if (this.totalStoredBytes > this.cfg.totalMaxBytes) {
        const rows = await this.db
          .selectFrom('task_outputs')
          .select(['task_guid', 'stored_bytes'])
          .where('state', '!=', 'running')
          .where('stored_records', '>', 0)
          .orderBy(sql`coalesce(finished_at, started_at)`)
          .execute()
        for (const r of rows) {
          if (this.totalStoredBytes <= this.cfg.totalMaxBytes) break
          await this.dropStored(r.task_guid, 'total_cap')
        }
      }
    } catch (err) {
      this.logger.error({ err }, 'task output retention sweep failed')
    }
  }

  private async dropStored(taskGuid: string, reason: TruncationReason): Promise<void> {
    await this.enqueue(async () => {
      const freed = await this.db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('task_outputs').select('stored_bytes').where('task_guid', '=', taskGuid).forUpdate().executeTakeFirst()
        if (!row) return 0
        await tx.deleteFrom('task_output_chunks').where('task_guid', '=', taskGuid).execute()
        await sql`
          update task_outputs set truncated_records = truncated_records + stored_records,
            truncated_bytes = truncated_bytes + stored_bytes, stored_records = 0, stored_bytes = 0, chunks = 0,
            truncation_reasons = case when truncation_reasons ? ${reason} then truncation_reasons
              else truncation_reasons || jsonb_build_array(${reason}::text) end
          where task_guid = ${taskGuid}`.execute(tx)
        return Number(row.stored_bytes)
      })
      this.totalStoredBytes -= freed
    })
  }

  async close(): Promise<void> {
    this.closing.abort()
    clearInterval(this.timer)
    clearInterval(this.sweepTimer)
    await this.flush()
    await this.sweeping
  }
}

// The log pipeline: task lines become Loggregator envelopes that go, in this order, into the
// log-cache ring (src/logs/cache.ts), the task's durable output (output-store.ts), live readers
// and the app's syslog drains (drains/). Nothing on this path waits for I/O.
import crypto from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import type { OutputLine } from '../executor/executor.ts'
import { nowNs } from '../executor/line-reader.ts'
import type { ClusterBus } from '../cluster/bus.ts'
import type { TaskOutputRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import type { OutputTail, TaskOutputReader } from '../trail/trail.ts'
import { LogCache, type ReadOptions, type SourceMeta } from './cache.ts'
import { DrainPolicy } from './drains/policy.ts'
import type { DrainApp, DrainNotify, DrainStats } from './drains/drain.ts'
import { DrainManager } from './drains/manager.ts'
import { cellLines, exitStatusLine, lgrTags, rateLimitNotice, taskSourceType, taskTags, type Envelope, type LogType } from './envelope.ts'
import type { TaskOutputWriter } from './output-chunks.ts'
import { OutputStore } from './output-store.ts'
import { announce, followRemoteOutput } from './remote.ts'
import { LogRateLimiter } from './rate-limit.ts'
import { ERR, SRC_CELL, SRC_PLATFORM, SRC_TASK, sourceOf, type OutputRecord } from './records.ts'
import type { TaskEnd, TaskLogContext, TaskLogSink, TaskOutputSummary } from './sink.ts'

/** Receives one task's records live, then `end` once its output is durable. */
export interface TaskListener {
  record(r: OutputRecord): void
  end(): void
}

export type SourceListener = (e: Envelope) => void

/** `*` subscribes to every source (the firehose, for admins). */
export const ALL_SOURCES = '*'

class TaskState {
  readonly taskTags: Record<string, string>
  readonly cellTags: Record<string, string>
  readonly limiter: LogRateLimiter
  readonly hash = crypto.createHash('sha256')
  acc = ''
  out = 0
  err = 0
  bytes = 0
  dropped = 0

  constructor(
    readonly ctx: TaskLogContext,
    readonly writer: TaskOutputWriter,
  ) {
    this.taskTags = taskTags(ctx, taskSourceType(ctx.taskName))
    this.cellTags = taskTags(ctx, 'CELL')
    this.limiter = new LogRateLimiter(ctx.logRateLimitBytesPerSecond)
  }

  flushHash(): void {
    if (!this.acc) return
    this.hash.update(this.acc)
    this.bytes += Buffer.byteLength(this.acc)
    this.acc = ''
  }
}

/** What the log routes read: the narrow side of the pipeline. */
export interface LogReader {
  /**
   * A task's records with index ≥ `from`: the stored ones, then those still in this server's
   * memory, each once and in order (a running task's output may be on another server: its
   * records reach this one through the store, see remote.ts).
   */
  readTaskOutput(taskGuid: string, opts?: { from?: number }): AsyncGenerator<OutputRecord[]>
  /** The stored summary row of a task's output. */
  outputSummary(taskGuid: string): Promise<TaskOutputRow | undefined>
  /** log-cache's ring: envelopes of a source, and what it holds per source. */
  readCache(sourceId: string, o: ReadOptions): Envelope[]
  cacheMeta(): Map<string, SourceMeta>
  drainStats(): DrainStats[]
  subscribeSource(sourceId: string, l: SourceListener): () => void
  subscribeTask(taskGuid: string, l: TaskListener): () => void
  /** True while the task's output is being written by this process. */
  isActive(taskGuid: string): boolean
  /** Registers how a live stream ends when the server stops; returns the unregister function. */
  onStop(end: () => void): () => void
}

export interface LogPipeline extends LogReader {
  readonly sink: TaskLogSink
  /** The last lines of a task's stored output, for the task trail. */
  readonly outputReader: TaskOutputReader
  readonly cache: LogCache
  readonly store: OutputStore
  readonly drains: DrainManager
  /** This server's URL once it listens (drains pointing at it are refused). */
  setSelfUrl(url: string): void
  readonly selfUrl: string | undefined
  /** Ends live streams (before the HTTP server closes). */
  endStreams(): void
  /** Flushes stored output and stops the drains (after the executor has stopped). */
  close(): Promise<void>
}

export interface LogPipelineOptions {
  readonly db: Db
  readonly config: Pick<Config, 'logs' | 'publicUrl'>
  readonly logger: Logger
  /** With several servers: announce stored output to the others and follow theirs (docs/cluster.md). */
  readonly cluster?: { readonly bus: ClusterBus; readonly instanceId: string }
}

const running = new Set<LogPipeline>()

/** Pipelines alive in this process, newest last (in-process tests reach the sink through it). */
export function activePipelines(): readonly LogPipeline[] {
  return [...running]
}

export async function createLogPipeline(opts: LogPipelineOptions): Promise<LogPipeline> {
  const { db, logger } = opts
  const cfg = opts.config.logs
  const cache = new LogCache(cfg.cacheMaxPerSource)
  const cluster = opts.cluster
  const store = new OutputStore(db, cfg, logger, cluster ? (guid, seq) => announce(cluster.bus, cluster.instanceId, guid, seq) : undefined)
  const policy = new DrainPolicy(cfg)
  const tasks = new Map<string, TaskState>()
  const sourceSubs = new Map<string, Set<SourceListener>>()
  const taskSubs = new Map<string, Set<TaskListener>>()
  const streamEnders = new Set<() => void>()
  const lgrTagCache = new Map<string, Record<string, string>>()
  let outputErrorLogged = false

  function publishSource(e: Envelope): void {
    const subs = sourceSubs.get(e.sourceId)
    if (subs) for (const s of subs) s(e)
    const all = sourceSubs.get(ALL_SOURCES)
    if (all) for (const s of all) s(e)
  }

  const notify: DrainNotify = (drain, text) => {
    const app: DrainApp = drain.binding.app
    let tags = lgrTagCache.get(app.guid)
    if (!tags || tags.app_name !== app.name) {
      tags = lgrTags(app)
      lgrTagCache.set(app.guid, tags)
    }
    const e: Envelope = { timestamp: nowNs(), sourceId: app.guid, instanceId: '0', tags, type: 'ERR', payload: text }
    cache.push(e)
    publishSource(e)
    drains.publish(e, drain)
  }
  const drains = new DrainManager(db, cfg, policy, notify, logger)

  function emit(st: TaskState, kind: number, type: LogType, timestamp: bigint, text: string, tags: Record<string, string>): void {
    const e: Envelope = { timestamp, sourceId: st.ctx.appGuid, instanceId: '0', tags, type, payload: text }
    cache.push(e)
    const index = store.append(st.writer, kind, e.timestamp, text)
    const subs = taskSubs.get(st.ctx.taskGuid)
    if (subs) {
      const r: OutputRecord = { index, kind, timestamp: e.timestamp, text }
      for (const s of subs) s.record(r)
    }
    if (sourceSubs.size) publishSource(e)
    drains.publish(e)
  }

  function begin(ctx: TaskLogContext): TaskState {
    const st = new TaskState(ctx, store.begin(ctx.taskGuid, ctx.appGuid))
    tasks.set(ctx.taskGuid, st)
    return st
  }

  const sink: TaskLogSink = {
    taskStarting(ctx) {
      const st = begin(ctx)
      emit(st, SRC_CELL, 'OUT', nowNs(), cellLines.creating(ctx.taskGuid), st.cellTags)
      emit(st, SRC_CELL, 'OUT', nowNs(), cellLines.created(ctx.taskGuid), st.cellTags)
    },

    taskOutput(ctx: TaskLogContext, line: OutputLine) {
      try {
        const st = tasks.get(ctx.taskGuid) ?? begin(ctx)
        if (line.stream === 'ERR') st.err++
        else st.out++
        st.acc += line.text
        st.acc += '\n'
        if (st.acc.length > 65536) st.flushHash()
        if (!st.limiter.unlimited) {
          const verdict = st.limiter.take(Buffer.byteLength(line.text))
          if (verdict !== 'ok') {
            st.dropped++
            if (verdict === 'drop+notice') emit(st, SRC_PLATFORM, 'OUT', nowNs(), rateLimitNotice(st.limiter.bytesPerSecond), st.taskTags)
            return
          }
        }
        emit(st, line.stream === 'ERR' ? SRC_TASK | ERR : SRC_TASK, line.stream, line.timestampNs, line.text, st.taskTags)
      } catch (err) {
        // Never let a log problem reach the executor's line reader.
        if (!outputErrorLogged) logger.error({ err, task: ctx.taskGuid }, 'log pipeline failed on a task line')
        outputErrorLogged = true
      }
    },

    async taskExited(ctx: TaskLogContext, end: TaskEnd): Promise<TaskOutputSummary> {
      const st = tasks.get(ctx.taskGuid) ?? begin(ctx)
      if (end.exitStatus !== null) emit(st, SRC_PLATFORM, 'OUT', nowNs(), exitStatusLine(end.exitStatus, end.oomKilled), st.taskTags)
      for (const line of [cellLines.stopping, cellLines.destroying, cellLines.destroyed]) {
        emit(st, SRC_CELL, 'OUT', nowNs(), line(ctx.taskGuid), st.cellTags)
      }
      st.flushHash()
      const partial = { outLines: st.out, errLines: st.err, bytes: st.bytes, sha256: st.hash.digest('hex'), droppedLines: st.dropped }
      await store.finish(st.writer, partial)
      tasks.delete(ctx.taskGuid)
      const subs = taskSubs.get(ctx.taskGuid)
      taskSubs.delete(ctx.taskGuid)
      if (subs) for (const s of subs) s.end()
      return { ...partial, truncated: st.writer.truncatedRecords > 0 }
    },
  }

  const outputReader: TaskOutputReader = {
    async tail(taskGuid: string, maxLines: number): Promise<OutputTail> {
      const row = await store.summary(taskGuid)
      // Newest stored chunks first, only as many as the tail needs, then what is still in memory.
      const isTaskLine = (r: OutputRecord) => sourceOf(r.kind) === SRC_TASK
      let lines: OutputRecord[] = store.inMemory(taskGuid).filter(isTaskLine)
      for await (const recs of store.storedNewestFirst(taskGuid)) {
        if (lines.length >= maxLines) break
        lines = [...recs.filter(isTaskLine), ...lines]
      }
      // A chunk written while this ran can show up both in memory and stored: keep each record once.
      const seen = new Set<number>()
      lines = lines.filter((r) => !seen.has(r.index) && seen.add(r.index)).sort((a, b) => a.index - b.index)
      lines = maxLines > 0 ? lines.slice(-maxLines) : []
      const st = tasks.get(taskGuid)
      const total = st ? st.out + st.err : Number(row?.out_lines ?? 0) + Number(row?.err_lines ?? 0)
      return {
        lines: lines.map((r) => ({
          stream: (r.kind & ERR ? 'ERR' : 'OUT') as 'OUT' | 'ERR',
          text: r.text,
          timestamp: new Date(Number(r.timestamp / 1_000_000n)).toISOString(),
        })),
        totalLines: total,
        truncated: Number(row?.truncated_records ?? 0) > 0 || (st?.writer.truncatedRecords ?? 0) > 0,
      }
    },
  }

  await store.init()
  await drains.reload()

  const remoteTags = new Map<string, { task: Record<string, string>; cell: Record<string, string> }>()
  const stopFollowing = cluster
    ? followRemoteOutput(cluster.bus, cluster.instanceId, db, store, {
        records(ctx, recs) {
          let tags = remoteTags.get(ctx.taskGuid)
          if (!tags) remoteTags.set(ctx.taskGuid, (tags = { task: taskTags(ctx, taskSourceType(ctx.taskName)), cell: taskTags(ctx, 'CELL') }))
          const subs = taskSubs.get(ctx.taskGuid)
          for (const r of recs) {
            const e: Envelope = {
              timestamp: r.timestamp,
              sourceId: ctx.appGuid,
              instanceId: '0',
              tags: sourceOf(r.kind) === SRC_CELL ? tags.cell : tags.task,
              type: r.kind & ERR ? 'ERR' : 'OUT',
              payload: r.text,
            }
            cache.push(e)
            if (subs) for (const s of subs) s.record(r)
            if (sourceSubs.size) publishSource(e)
          }
        },
        ended(taskGuid) {
          remoteTags.delete(taskGuid)
          const subs = taskSubs.get(taskGuid)
          taskSubs.delete(taskGuid)
          if (subs) for (const s of subs) s.end()
        },
      }, logger)
    : () => undefined

  const pipeline: LogPipeline = {
    sink,
    outputReader,
    cache,
    store,
    drains,
    outputSummary: (taskGuid) => store.summary(taskGuid),
    readCache: (sourceId, o) => cache.read(sourceId, o),
    cacheMeta: () => cache.meta(),
    drainStats: () => drains.stats(),
    async *readTaskOutput(taskGuid, o = {}) {
      // Memory first: a chunk stored while the store is read is then found there.
      const memory = store.inMemory(taskGuid)
      let next = o.from ?? 0
      for await (const recs of store.stored(taskGuid, next)) {
        const fresh = recs.filter((r) => r.index >= next)
        if (!fresh.length) continue
        next = fresh[fresh.length - 1]!.index + 1
        yield fresh
      }
      const rest = memory.filter((r) => r.index >= next)
      if (rest.length) yield rest
    },
    selfUrl: undefined as string | undefined,
    setSelfUrl(url) {
      ;(pipeline as { selfUrl: string | undefined }).selfUrl = url
      policy.setSelf(url, opts.config.publicUrl)
    },
    subscribeSource(sourceId, l) {
      let set = sourceSubs.get(sourceId)
      if (!set) sourceSubs.set(sourceId, (set = new Set()))
      set.add(l)
      return () => {
        set.delete(l)
        if (!set.size) sourceSubs.delete(sourceId)
      }
    },
    subscribeTask(taskGuid, l) {
      let set = taskSubs.get(taskGuid)
      if (!set) taskSubs.set(taskGuid, (set = new Set()))
      set.add(l)
      return () => {
        set.delete(l)
        if (!set.size) taskSubs.delete(taskGuid)
      }
    },
    isActive(taskGuid) {
      return tasks.has(taskGuid)
    },
    onStop(end) {
      streamEnders.add(end)
      return () => streamEnders.delete(end)
    },
    endStreams() {
      for (const end of streamEnders) end()
      streamEnders.clear()
    },
    async close() {
      stopFollowing()
      running.delete(pipeline)
      pipeline.endStreams()
      await store.close()
      await drains.close(2000)
    },
  }
  running.add(pipeline)
  return pipeline
}

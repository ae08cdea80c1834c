// Live streams: the RLP gateway's server-sent events (`GET /v2/read`), and our extension
// `GET /v3/tasks/:guid/output`, one task's output as text or NDJSON, optionally followed live.
import { Readable } from 'node:stream'
import { apiError, badQuery } from '../../../errors/api-error.ts'
import { envelopeJson, taskSourceType, type Envelope } from '../../../logs/envelope.ts'
import { ALL_SOURCES, type LogReader } from '../../../logs/pipeline.ts'
import { ERR, SRC_CELL, SRC_TASK, sourceOf, type OutputRecord } from '../../../logs/records.ts'
import type { TaskOutputRow, TaskRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import type { LogConfig } from '../../../logs/config.ts'
import type { Route } from '../../route.ts'
import { canReadSource, list, logCacheError, parseBool, single } from './common.ts'
import { taskState } from '../../../queries/tasks.ts'
import { visibleTask } from '../visible.ts'

const TYPES = ['log', 'counter', 'gauge', 'timer', 'event']
const RLP_PARAMS = new Set([...TYPES, 'source_id', 'shard_id', 'deterministic_name', 'counter.name', 'gauge.name'])

/** An async queue a generator can wait on. */
class Waiter<T> {
  private items: T[] = []
  private wake: (() => void) | undefined
  push(x: T): void {
    this.items.push(x)
    this.wake?.()
    this.wake = undefined
  }
  drain(): T[] {
    const out = this.items
    this.items = []
    return out
  }
  get size(): number {
    return this.items.length
  }
  wait(ms: number): Promise<void> {
    if (this.items.length) return Promise.resolve()
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }
}

export function streamRoutes(pipeline: LogReader, deps: { db: Db }, cfg: LogConfig): Route[] {
  const { db } = deps

  return [
    {
      method: 'GET',
      url: '/v2/read',
      summary: 'RLP gateway: live envelopes as server-sent events (heartbeats every 15 s)',
      tag: 'Logs',
      auth: 'read',
      async handler(ctx) {
        const q = ctx.rawQuery
        const unknown = Object.keys(q).filter((k) => !RLP_PARAMS.has(k))
        if (unknown.length) return logCacheError(400, `unknown query parameter(s): ${unknown.join(', ')}`)
        if (!TYPES.some((t) => t in q)) return logCacheError(400, 'at least one envelope type is required: log, counter, gauge, timer or event')
        const sources = [...new Set(list(q.source_id).filter(Boolean))]
        if (!sources.length && !ctx.perms.canReadGlobally) return logCacheError(404, 'a source_id is required')
        for (const s of sources) if (!(await canReadSource(db, ctx.perms, s))) return logCacheError(404, `source ${s} not found`)
        const wantLogs = 'log' in q
        const queue = new Waiter<Envelope>()
        let stopped = false
        const stop = () => {
          stopped = true
          queue.push(undefined as unknown as Envelope)
        }
        const unsubscribe = (sources.length ? sources : [ALL_SOURCES]).map((s) =>
          pipeline.subscribeSource(s, (e) => {
            // A reader that cannot keep up loses envelopes (the gateway is lossy too).
            if (wantLogs && queue.size < 100_000) queue.push(e)
          }),
        )
        const offStop = pipeline.onStop(stop)
        async function* events(): AsyncGenerator<string> {
          try {
            yield ': connected\n\n'
            const deadline = Date.now() + cfg.streamTimeoutSeconds * 1000
            let nextBeat = Date.now() + cfg.streamHeartbeatSeconds * 1000
            while (!stopped) {
              const now = Date.now()
              if (now >= deadline) {
                yield 'event: closing\ndata: closing due to stream timeout\n\n'
                return
              }
              if (now >= nextBeat) {
                yield `event: heartbeat\ndata: ${Math.floor(now / 1000)}\n\n`
                nextBeat = now + cfg.streamHeartbeatSeconds * 1000
              }
              await queue.wait(Math.min(nextBeat, deadline) - Date.now())
              const batch = queue.drain().filter(Boolean)
              for (let i = 0; i < batch.length; i += 1000) {
                yield `data: ${JSON.stringify({ batch: batch.slice(i, i + 1000).map(envelopeJson) })}\n\n`
              }
            }
          } finally {
            for (const u of unsubscribe) u()
            offStop()
          }
        }
        return {
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' },
          body: Readable.from(events()),
        }
      },
    },
    {
      method: 'GET',
      url: '/v3/tasks/:guid/output',
      summary: "Extension: one task's output (text or NDJSON); follow=true streams until the task ends",
      tag: 'Tasks',
      auth: 'read',
      async handler(ctx) {
        const q = ctx.rawQuery
        const unknown = Object.keys(q).filter((k) => k !== 'format' && k !== 'follow')
        if (unknown.length) {
          throw apiError('BadQueryParameter', `Unknown query parameter(s): ${unknown.map((k) => `'${k}'`).join(', ')}. Valid parameters are: 'format', 'follow'`)
        }
        const format = single(q.format) ?? 'text'
        if (format !== 'text' && format !== 'ndjson') throw badQuery(`Format must be one of 'text', 'ndjson'`)
        const f = single(q.follow)
        const follow = f === undefined ? false : parseBool('follow', f)
        if (typeof follow === 'string') throw badQuery(`Follow must be a boolean ('true' or 'false')`)
        const task = await visibleTask(db, ctx)
        const body = Readable.from(outputLines(pipeline, db, task, format, follow))
        const row = await pipeline.outputSummary(task.guid)
        return {
          status: 200,
          headers: {
            'content-type': format === 'text' ? 'text/plain; charset=utf-8' : 'application/x-ndjson',
            'cache-control': 'no-cache',
            'x-cf-ledger-output-state': row?.state ?? 'none',
          },
          body,
        }
      },
    },
  ]
}

function render(task: TaskRow, r: OutputRecord, format: 'text' | 'ndjson'): string | undefined {
  const src = sourceOf(r.kind)
  if (format === 'text') return src === SRC_TASK ? `${r.text}\n` : undefined
  return (
    JSON.stringify({
      timestamp: r.timestamp.toString(),
      source_type: src === SRC_CELL ? 'CELL' : taskSourceType(task.name),
      type: r.kind & ERR ? 'ERR' : 'OUT',
      line: r.text,
    }) + '\n'
  )
}

function trailer(row: TaskOutputRow | undefined, format: 'text' | 'ndjson'): string {
  if (!row) return ''
  const truncated = Number(row.truncated_records) > 0
  const reasons = (row.truncation_reasons ?? []).join(', ')
  if (format === 'text') {
    let out = ''
    if (truncated) out += `[cf-ledger] output truncated: ${row.truncated_records} records (${row.truncated_bytes} bytes) not stored (${reasons})\n`
    if (row.state === 'interrupted') out += '[cf-ledger] output incomplete: the server stopped while the task ran\n'
    return out
  }
  return (
    JSON.stringify({
      summary: {
        state: row.state,
        out_lines: Number(row.out_lines),
        err_lines: Number(row.err_lines),
        bytes: Number(row.bytes),
        sha256: row.sha256,
        dropped_lines: Number(row.dropped_lines),
        stored_records: Number(row.stored_records),
        truncated,
        truncated_records: Number(row.truncated_records),
        truncated_bytes: Number(row.truncated_bytes),
        truncation_reasons: row.truncation_reasons ?? [],
      },
    }) + '\n'
  )
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED'])
const LIVE_QUEUE_MAX = 100_000

/**
 * Stored records first, then the ones still in memory, then (with follow) live ones; record
 * indexes tie them together so nothing is shown twice or skipped.
 */
async function* outputLines(pipeline: LogReader, db: Db, task: TaskRow, format: 'text' | 'ndjson', follow: boolean): AsyncGenerator<string> {
  const live = new Waiter<OutputRecord | 'end'>()
  let unsubscribe = () => {}
  let offStop = () => {}
  let stopped = false
  let behind = false
  if (follow && !TERMINAL.has(task.state)) {
    unsubscribe = pipeline.subscribeTask(task.guid, {
      record: (r) => {
        // A reader far behind stops queueing live records and catches up from the store instead.
        if (live.size < LIVE_QUEUE_MAX) live.push(r)
        else behind = true
      },
      end: () => live.push('end'),
    })
    offStop = pipeline.onStop(() => {
      stopped = true
      live.push('end')
    })
  }
  try {
    let next = 0
    let out = ''
    const emit = (r: OutputRecord) => {
      if (r.index < next) return
      next = r.index + 1
      const s = render(task, r, format)
      if (s) out += s
    }
    // Flushed every 64 KB, not per stored chunk (1 MiB of records): the first lines reach a
    // reader (the console's viewer) before the whole chunk is rendered. Between flushes the event
    // loop serves other requests; rendering a chunk would otherwise run as one microtask chain.
    for await (const recs of pipeline.readTaskOutput(task.guid)) {
      for (const r of recs) {
        emit(r)
        if (out.length > 65536) {
          yield out
          out = ''
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
    }
    if (out) {
      yield out
      out = ''
    }
    if (follow && !TERMINAL.has(task.state)) {
      for (;;) {
        await live.wait(2000)
        let ended = false
        const batch = live.drain()
        if (behind) {
          behind = false
          for await (const recs of pipeline.readTaskOutput(task.guid, { from: next })) for (const r of recs) emit(r)
        }
        for (const r of batch) {
          if (r === 'end') ended = true
          else emit(r)
        }
        if (out) {
          yield out
          out = ''
        }
        if (ended || stopped) break
        if (!pipeline.isActive(task.guid)) {
          // Not running here: finished already, or never started (it failed before it ran).
          const state = await taskState(db, task.guid)
          if (!state || TERMINAL.has(state)) {
            for (const r of live.drain()) if (r !== 'end') emit(r)
            // Ran on another server: everything it wrote is stored before its terminal state.
            for await (const recs of pipeline.readTaskOutput(task.guid, { from: next })) for (const r of recs) emit(r)
            if (out) yield out
            break
          }
        }
      }
    }
    if (!stopped) yield trailer(await pipeline.outputSummary(task.guid), format)
  } finally {
    unsubscribe()
    offStop()
  }
}

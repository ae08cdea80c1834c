// The log-cache HTTP API (log-cache-release src/README.md) on the CC origin: the CF CLI's
// `cf logs` (streaming and --recent) reads here. See docs/logs.md for the error shape.
import type { Envelope } from '../../../logs/envelope.ts'
import { envelopeJson } from '../../../logs/envelope.ts'
import type { LogReader } from '../../../logs/pipeline.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route } from '../../route.ts'
import { canReadSource, list, logCacheError, parseBool, parseInt64, readableSources, single } from './common.ts'

const ENVELOPE_TYPES = ['ANY', 'LOG', 'COUNTER', 'GAUGE', 'TIMER', 'EVENT']
const KNOWN = new Set(['start_time', 'end_time', 'envelope_types', 'limit', 'descending', 'name_filter'])
const started = Date.now()

export const LOG_CACHE_VERSION = '3.0.0'

export function logCacheRoutes(pipeline: LogReader, deps: { db: Db }): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/info',
      summary: 'log-cache version (the CF CLI requires ≥ 2.0.0 for /api/v1)',
      tag: 'Logs',
      auth: 'none',
      async handler() {
        return ok({ version: LOG_CACHE_VERSION, vm_uptime: String(Math.floor((Date.now() - started) / 1000)) })
      },
    },
    {
      method: 'GET',
      url: '/api/v1/read/:source_id',
      summary: "Read a source's recent envelopes (log-cache ReadRequest; 404 when not readable)",
      tag: 'Logs',
      auth: 'read',
      async handler(ctx) {
        const q = ctx.rawQuery
        const unknown = Object.keys(q).filter((k) => !KNOWN.has(k))
        if (unknown.length) return logCacheError(400, `unknown query parameter(s): ${unknown.join(', ')}`)
        let startTime: bigint | undefined
        let endTime: bigint | undefined
        const st = single(q.start_time)
        if (st !== undefined && st !== '') {
          const v = parseInt64('start_time', st)
          if (typeof v === 'string') return logCacheError(400, v)
          startTime = v
        }
        const et = single(q.end_time)
        if (et !== undefined && et !== '') {
          const v = parseInt64('end_time', et)
          if (typeof v === 'string') return logCacheError(400, v)
          endTime = v
        }
        if (startTime !== undefined && endTime !== undefined && startTime >= endTime) {
          return logCacheError(400, `StartTime (${startTime}) must be before EndTime (${endTime})`)
        }
        let limit = 100
        const l = single(q.limit)
        if (l !== undefined && l !== '') {
          if (!/^-?\d+$/.test(l)) return logCacheError(400, `limit must be an integer, got '${l}'`)
          const n = Number(l)
          if (n < 0) return logCacheError(400, `limit (${n}) must be greater than zero`)
          if (n > 1000) return logCacheError(400, `limit (${n}) must be 1000 or less`)
          if (n > 0) limit = n
        }
        let descending = false
        const d = single(q.descending)
        if (d !== undefined) {
          const v = parseBool('descending', d)
          if (typeof v === 'string') return logCacheError(400, v)
          descending = v
        }
        const types = list(q.envelope_types).flatMap((t) => t.split(','))
        const bad = types.filter((t) => !ENVELOPE_TYPES.includes(t.toUpperCase()))
        if (bad.length) return logCacheError(400, `envelope_types must be one of ${ENVELOPE_TYPES.join(', ')}, got '${bad.join("', '")}'`)
        const nameFilter = single(q.name_filter)
        if (nameFilter !== undefined && nameFilter !== '') {
          try {
            new RegExp(nameFilter)
          } catch {
            return logCacheError(400, 'name filter must be a valid regular expression')
          }
        }
        const sourceId = ctx.params.source_id!
        if (!(await canReadSource(deps.db, ctx.perms, sourceId))) return logCacheError(404, `source ${sourceId} not found`)
        // Every envelope here is a log; a name filter matches metric names only, so no log passes it.
        const wantLogs = (types.length === 0 || types.some((t) => ['ANY', 'LOG'].includes(t.toUpperCase()))) && !nameFilter
        const batch: Envelope[] = pipeline.readCache(sourceId, { startTime, endTime, limit, descending, wantLogs })
        return ok({ envelopes: { batch: batch.map(envelopeJson) } })
      },
    },
    {
      method: 'GET',
      url: '/api/v1/meta',
      summary: 'Sources in the cache with counts and time range (readable ones only)',
      tag: 'Logs',
      auth: 'read',
      async handler(ctx) {
        const meta: Record<string, unknown> = {}
        const all = pipeline.cacheMeta()
        const readable = await readableSources(deps.db, ctx.perms, [...all.keys()])
        for (const [id, m] of all) {
          if (!readable.has(id)) continue
          meta[id] = {
            count: String(m.count),
            expired: String(m.expired),
            oldestTimestamp: m.oldestTimestamp.toString(),
            newestTimestamp: m.newestTimestamp.toString(),
          }
        }
        return ok({ meta })
      },
    },
    {
      method: 'GET',
      url: '/api/v1/drains',
      summary: 'Extension: syslog drain counters (sent, dropped, buffered) of readable apps',
      tag: 'Logs',
      auth: 'read',
      async handler(ctx) {
        const stats = pipeline.drainStats()
        const readable = await readableSources(deps.db, ctx.perms, [...new Set(stats.map((s) => s.app_guid))])
        return ok({ drains: stats.filter((s) => readable.has(s.app_guid)) })
      },
    },
  ]
}

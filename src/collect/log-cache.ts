// The second way to a foundation's task output (docs/collect.md, "Output"): reading log-cache
// (`GET /api/v1/read/:source_id`) with a time cursor per app, for foundations where a drain cannot
// be bound. Envelopes go through the same attribution as drain lines. Its loss window is
// log-cache's: an app's envelopes beyond `max_per_source` roll out between two reads.
import type { Attributor } from './attribution.ts'
import type { CcClient } from './cc-client.ts'
import type { SyslogMessage } from '../syslog/parse.ts'

/** A Loggregator v2 envelope in log-cache's JSON (protojson: int64 as strings, payload base64). */
interface JsonEnvelope {
  readonly timestamp: string
  readonly source_id: string
  readonly instance_id?: string
  readonly tags?: Record<string, string>
  readonly log?: { readonly payload?: string; readonly type?: 'OUT' | 'ERR' }
}

const LIMIT = 1000

/** An envelope as the drain listener would have parsed its syslog line. */
export function messageOf(e: JsonEnvelope): SyslogMessage {
  const tags = e.tags ?? {}
  const instance = e.instance_id ?? tags.instance_id ?? ''
  return {
    priority: e.log?.type === 'ERR' ? 11 : 14,
    timestampMicros: Number(BigInt(e.timestamp) / 1000n),
    hostname: '-',
    appName: e.source_id,
    procId: `[${tags.source_type ?? ''}/${instance}]`,
    msgId: '-',
    structuredData: { 'tags@47450': { ...tags, app_id: tags.app_id ?? e.source_id } },
    message: Buffer.from(e.log?.payload ?? '', 'base64').toString('utf8').replace(/\n$/, ''),
  }
}

export class LogCacheReader {
  /** App guid → the next start_time (ns) to ask for. */
  private readonly cursors = new Map<string, bigint>()
  readonly stats = { reads: 0, envelopes: 0 }

  constructor(
    private readonly client: CcClient,
    private readonly attributor: Attributor,
  ) {}

  /** Reads every app with an open run from its cursor (first: one second before the run began). */
  async poll(apps: ReadonlyMap<string, number>): Promise<void> {
    for (const [appGuid, sinceMs] of apps) {
      let start = this.cursors.get(appGuid) ?? BigInt(sinceMs - 1000) * 1_000_000n
      for (;;) {
        const r = await this.client.get<{ envelopes: { batch: JsonEnvelope[] } }>(
          `/api/v1/read/${encodeURIComponent(appGuid)}?envelope_types=LOG&limit=${LIMIT}&start_time=${start}`,
          'logCache',
        )
        this.stats.reads++
        const batch = r.envelopes?.batch ?? []
        for (const e of batch) {
          this.stats.envelopes++
          this.attributor.line(messageOf(e))
          const next = BigInt(e.timestamp) + 1n
          if (next > start) start = next
        }
        this.cursors.set(appGuid, start)
        if (batch.length < LIMIT) break
      }
    }
  }
}

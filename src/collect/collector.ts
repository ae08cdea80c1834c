// The collector (docs/collect.md): per foundation, a loop of passes — audit events since the
// cursor (minus the overlap, or everything the foundation keeps on a rescan), a gap event when
// the foundation pruned past the cursor, then the task runs: new ones from events and from the
// tasks list by updated_at, open ones refreshed until they end, ended ones recorded.
import { sql } from 'kysely'
import type { Logger } from 'pino'
import { recordFoundationEvent } from '../actions/events/foundation.ts'
import { COLLECT_EVENT_TYPES, TASK_EVENT_PREFIX } from '../audit/event-types.ts'
import type { OutputStore } from '../logs/output-store.ts'
import type { Db } from '../store/store.ts'
import type { Fingerprint } from '../trail/fingerprint.ts'
import { Attributor } from './attribution.ts'
import { CcClient } from './cc-client.ts'
import type { CollectConfig, FoundationConfig } from './config.ts'
import { startDrainListener, type DrainListener } from './drain-listener.ts'
import type { CcAuditEvent } from './entries.ts'
import { LogCacheReader } from './log-cache.ts'
import { advanceCursor, readCursor, storeEventPage } from './store.ts'
import { followTask, isTerminal, openTasks, recordRun, type CcTask } from './tasks.ts'

interface Page<T> {
  readonly pagination: { readonly total_results: number; readonly next: { readonly href: string } | null }
  readonly resources: readonly T[]
}

/** CC takes whole seconds in timestamp filters. */
const ccTime = (ms: number) => `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`

export const COLLECTOR_ACTOR = { guid: 'cf-ledger-collector', type: 'system', name: 'collector', username: '' }

export interface PassResult {
  readonly eventsRead: number
  readonly eventsAdded: number
  readonly tasksRecorded: number
  readonly gap: { readonly from: string; readonly to: string } | null
}

export class FoundationCollector {
  readonly client: CcClient
  private readonly endedSeenAt = new Map<string, number>()
  private readonly logCache: LogCacheReader | undefined

  constructor(
    private readonly db: Db,
    readonly foundation: FoundationConfig,
    private readonly cfg: Pick<CollectConfig, 'overlapSeconds' | 'rescanSeconds' | 'outputGraceMs'>,
    private readonly attributor: Attributor,
    private readonly fingerprint: Fingerprint,
    signal?: AbortSignal,
  ) {
    this.client = new CcClient(foundation, undefined, signal)
    this.logCache = foundation.logs === 'log-cache' ? new LogCacheReader(this.client, attributor) : undefined
  }

  /** Every page from `first` on; the next page is fetched while the current one is stored. */
  private async readAll<T>(first: string, onPage: (items: readonly T[]) => Promise<void>): Promise<number> {
    let pending: Promise<Page<T>> | null = this.client.get<Page<T>>(first)
    let n = 0
    while (pending) {
      const page: Page<T> = await pending
      const next = page.pagination.next?.href
      pending = next ? this.client.get<Page<T>>(next) : null
      // If storing fails, the prefetch's own failure must not go unhandled.
      pending?.catch(() => undefined)
      n += page.resources.length
      await onPage(page.resources)
    }
    return n
  }

  /**
   * The foundation's oldest kept event; when it is newer than the cursor, CC pruned what was
   * between. `undefined` when the foundation keeps no event at all: then the first event this
   * pass reads decides (recordGap from pass), or an event written meanwhile would move the cursor past
   * the gap.
   */
  private async gapCheck(after: Date | null): Promise<PassResult['gap'] | undefined> {
    if (!after) return null
    const oldest = (await this.client.get<Page<CcAuditEvent>>('/v3/audit_events?order_by=created_at&per_page=1')).resources[0]
    if (!oldest) return undefined
    return this.recordGap(after, oldest)
  }

  private async recordGap(after: Date, oldest: CcAuditEvent): Promise<PassResult['gap']> {
    if (Date.parse(oldest.created_at) <= after.getTime()) return null
    const gap = { from: after.toISOString(), to: new Date(oldest.created_at).toISOString() }
    await this.db.transaction().execute(async (tx) => {
      await advanceCursor(tx, this.foundation.name, { eventsAfter: new Date(oldest.created_at) })
      await recordFoundationEvent(tx, COLLECTOR_ACTOR, this.foundation.name, COLLECT_EVENT_TYPES.gap, {
        foundation: this.foundation.name,
        api: this.foundation.api,
        missing_from: gap.from,
        missing_to: gap.to,
        reason: 'the foundation no longer keeps events this old (collector outage longer than its retention)',
      })
    })
    return gap
  }

  async pass(now = Date.now()): Promise<PassResult> {
    const name = this.foundation.name
    const cursor = await readCursor(this.db, name)
    let gap = await this.gapCheck(cursor.eventsAfter)
    const rescan = !cursor.rescannedAt || now - cursor.rescannedAt.getTime() >= this.cfg.rescanSeconds * 1000
    const from = rescan || !cursor.eventsAfter ? '' : `&created_ats[gte]=${ccTime(cursor.eventsAfter.getTime() - this.cfg.overlapSeconds * 1000)}`
    let added = 0
    const taskGuids = new Set<string>()
    const eventsRead = await this.readAll<CcAuditEvent>(`/v3/audit_events?order_by=created_at&per_page=5000${from}`, async (events) => {
      // The foundation was empty at the check: the oldest event read now (the first, in created_at
      // order, from before the cursor when nothing was pruned) is what the check would have seen.
      if (gap === undefined && events[0]) gap = await this.recordGap(cursor.eventsAfter!, events[0])
      const inserted = await storeEventPage(this.db, name, events)
      added += inserted.length
      for (const e of inserted) if (e.taskGuid && e.type.startsWith(TASK_EVENT_PREFIX)) taskGuids.add(e.taskGuid)
    })
    if (rescan) await advanceCursor(this.db, name, { rescannedAt: new Date(now) })

    // Tasks: those named by new events, those changed since the tasks cursor (runs created while
    // the collector was down, or whose events were pruned), then every open one.
    for (const guid of taskGuids) {
      try {
        await followTask(this.db, name, await this.client.get<CcTask>(`/v3/tasks/${guid}`), this.attributor)
      } catch (err) {
        // A task deleted with its app: its events are kept; there is nothing more to follow.
        if ((err as { status?: number }).status !== 404) throw err
      }
    }
    const since = cursor.tasksAfter ? `&updated_ats[gte]=${ccTime(cursor.tasksAfter.getTime() - this.cfg.overlapSeconds * 1000)}` : ''
    let newestTask = 0
    await this.readAll<CcTask>(`/v3/tasks?order_by=updated_at&per_page=5000${since}`, async (tasks) => {
      for (const t of tasks) {
        newestTask = Math.max(newestTask, Date.parse(t.updated_at))
        if (taskGuids.has(t.guid)) continue
        const known = (await sql<{ recorded: boolean }>`select recorded from collected_tasks where foundation = ${name} and guid = ${t.guid}`.execute(this.db)).rows[0]
        if (!known?.recorded) await followTask(this.db, name, t, this.attributor)
      }
    })
    if (newestTask) await advanceCursor(this.db, name, { tasksAfter: new Date(newestTask) })

    let recorded = 0
    const open = await openTasks(this.db, name)
    for (const t of open) {
      if (isTerminal(t.state)) continue
      const fresh = await this.client.get<CcTask>(`/v3/tasks/${t.guid}`)
      await followTask(this.db, name, fresh, this.attributor)
    }
    if (this.logCache) {
      // Output from log-cache: every app with a run still open, from one second before its oldest run.
      const apps = new Map<string, number>()
      for (const t of await openTasks(this.db, name)) {
        const app = t.resource.relationships.app.data.guid
        apps.set(app, Math.min(apps.get(app) ?? Infinity, Date.parse(t.resource.created_at)))
      }
      await this.logCache.poll(apps)
    }
    this.attributor.settle()
    for (const open of await openTasks(this.db, name)) {
      const task = open.resource
      if (!isTerminal(task.state)) continue
      // Ended: record it in a later pass than the one that saw it end, so that pass's event read
      // (which started after) has the foundation's completion event; and once the output is
      // complete (the Exit status line came) or the grace time passed.
      const seen = this.endedSeenAt.get(open.guid)
      if (seen === undefined) {
        this.endedSeenAt.set(open.guid, now)
        continue
      }
      if (!this.attributor.exitSeen(open.guid) && now - seen < this.cfg.outputGraceMs) continue
      this.endedSeenAt.delete(open.guid)
      // CC's task list leaves the command out: the run is recorded from the task itself.
      const final = await this.client.get<CcTask>(`/v3/tasks/${open.guid}`).catch((err: { status?: number }) => {
        if (err.status === 404) return task
        throw err
      })
      await recordRun(this.db, this.client, this.fingerprint, name, final, await this.attributor.finish(open.guid))
      recorded++
    }
    return { eventsRead, eventsAdded: added, tasksRecorded: recorded, gap: gap ?? null }
  }

  /** Re-registers the runs being followed (after a restart), so their drain lines find them. */
  async resume(): Promise<void> {
    for (const t of await openTasks(this.db, this.foundation.name)) {
      await followTask(this.db, this.foundation.name, t.resource, this.attributor)
    }
  }
}

export interface Collector {
  readonly drain: DrainListener | undefined
  readonly foundations: readonly FoundationCollector[]
  readonly attributor: Attributor
  /** One pass of every foundation now (the CLI's --once, tests). */
  passAll(): Promise<PassResult[]>
  stop(): Promise<void>
}

export interface CollectorDeps {
  readonly db: Db
  readonly config: CollectConfig
  readonly output: OutputStore
  readonly fingerprint: Fingerprint
  readonly logger: Logger
}

/** Starts the drain listener and one loop per foundation; `loop: false` leaves passes to the caller. */
export async function startCollector(deps: CollectorDeps, opts: { loop?: boolean } = {}): Promise<Collector> {
  const { db, config, logger } = deps
  const abort = new AbortController()
  const attributor = new Attributor(deps.output)
  const foundations = config.foundations.map((f) => new FoundationCollector(db, f, config, attributor, deps.fingerprint, abort.signal))
  for (const f of foundations) await f.resume()
  const drain =
    config.drain.tcpPort !== undefined || config.drain.tls || config.drain.https ? await startDrainListener(config.drain, (m) => attributor.line(m), logger) : undefined
  const flushAside = async () => {
    const lines = attributor.takeAside()
    if (!lines.length) return
    await sql`
      insert into collected_unattributed (app_guid, source_type, instance_id, line_timestamp, reason, candidates, line)
      select a, s, i, to_timestamp(t / 1e6), r, string_to_array(c, ','), l
      from unnest(${sql.val(lines.map((x) => x.appGuid))}::text[], ${sql.val(lines.map((x) => x.sourceType))}::text[],
        ${sql.val(lines.map((x) => x.instanceId))}::text[], ${sql.val(lines.map((x) => x.timestampMicros))}::float8[],
        ${sql.val(lines.map((x) => x.reason))}::text[], ${sql.val(lines.map((x) => x.candidates.join(',')))}::text[],
        ${sql.val(lines.map((x) => x.line))}::text[]) as u(a, s, i, t, r, c, l)`.execute(db)
  }
  const passOne = async (f: FoundationCollector): Promise<PassResult> => {
    const r = await f.pass()
    await flushAside()
    return r
  }
  const loops: Promise<void>[] = []
  if (opts.loop !== false) {
    for (const f of foundations) {
      loops.push(
        (async () => {
          let failures = 0
          while (!abort.signal.aborted) {
            try {
              await passOne(f)
              failures = 0
            } catch (err) {
              failures++
              // Each failed pass waits longer (up to 5 minutes); the next success resets it.
              if (!abort.signal.aborted) logger.warn({ foundation: f.foundation.name, err: (err as Error).message }, 'collect pass failed; backing off')
            }
            const wait = failures ? Math.min(300_000, config.intervalMs * 2 ** Math.min(failures, 10)) : config.intervalMs
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, wait)
              abort.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
            })
          }
        })(),
      )
    }
  }
  return {
    drain,
    foundations,
    attributor,
    passAll: () => Promise.all(foundations.map(passOne)),
    async stop() {
      abort.abort()
      await Promise.all(loops)
      await drain?.close()
      await flushAside().catch(() => undefined)
      for (const f of foundations) f.client.close()
    },
  }
}

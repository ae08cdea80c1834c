// Prometheus metrics (prom-client, docs/decisions/0003-prom-client.md): request latency by route
// and status, tasks by state, output and drain buffers, the ledger and the database pool. Values
// kept by other parts are read when scraped, so nothing on a request's path pays for them.
import { sql } from 'kysely'
import client from 'prom-client'
import type { Db, Store } from '../store/store.ts'

export interface MetricSources {
  readonly store: Store
  readonly output: { readonly totalStoredBytes: number; readonly pendingBytes: number; readonly droppedBytes: number }
  readonly drains: () => readonly { readonly dropped: number; readonly buffered_lines: number; readonly buffered_bytes: number }[]
}

export interface Metrics {
  readonly contentType: string
  observeRequest(method: string, route: string, status: number, seconds: number): void
  render(): Promise<string>
}

const TASK_STATES = ['PENDING', 'RUNNING', 'CANCELING', 'SUCCEEDED', 'FAILED'] as const

async function ledgerFacts(db: Db) {
  const r = await sql<{ tasks: Record<string, number> | null; seq: number | null; checkpoint: Date | null; leaves: number | string | null; logCheckpoint: Date | null }>`
    select (select jsonb_object_agg(state, n) from (select state, count(*)::int as n from tasks group by state) s) as tasks,
           (select case when is_called then last_value else 0 end from events_seq_seq) as seq,
           (select max(signed_at) from ledger_checkpoints) as checkpoint,
           (select size from ledger_log where id = 1) as leaves,
           (select signed_at from ledger_log_checkpoints order by size desc limit 1) as "logCheckpoint"`.execute(db)
  return r.rows[0]!
}

export function createMetrics(src: MetricSources): Metrics {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix: 'cf_ledger_' })
  const reg = { registers: [registry] }

  const requests = new client.Histogram({
    name: 'cf_ledger_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ...reg,
  })

  const up = new client.Gauge({ name: 'cf_ledger_database_up', help: '1 when the last scrape could read the database', ...reg })
  const tasks = new client.Gauge({ name: 'cf_ledger_tasks', help: 'Tasks by state', labelNames: ['state'], ...reg })
  const queue = new client.Gauge({ name: 'cf_ledger_task_queue_depth', help: 'Tasks waiting for a free slot (PENDING)', ...reg })
  const events = new client.Gauge({ name: 'cf_ledger_audit_events_appended', help: 'Audit events appended to the ledger (the highest event sequence number)', ...reg })
  const checkpointAge = new client.Gauge({ name: 'cf_ledger_ledger_checkpoint_age_seconds', help: 'Seconds since the newest signed ledger checkpoint', ...reg })
  const leaves = new client.Gauge({ name: 'cf_ledger_ledger_log_leaves', help: 'Leaves of the ledger log (its size: integrated events and task-run records)', ...reg })
  const logCheckpointAge = new client.Gauge({ name: 'cf_ledger_ledger_log_checkpoint_age_seconds', help: 'Seconds since the newest signed ledger log checkpoint (C2SP signed note)', ...reg })
  new client.Gauge({
    name: 'cf_ledger_task_output_stored_bytes',
    help: 'Task output bytes held in the store',
    ...reg,
    collect() {
      this.set(src.output.totalStoredBytes)
    },
  })
  new client.Gauge({
    name: 'cf_ledger_task_output_pending_bytes',
    help: 'Task output bytes sealed but not yet written',
    ...reg,
    collect() {
      this.set(src.output.pendingBytes)
    },
  })
  new client.Gauge({
    name: 'cf_ledger_task_output_dropped_bytes',
    help: 'Task output bytes not stored (limits, store errors) since start',
    ...reg,
    collect() {
      this.set(src.output.droppedBytes)
    },
  })
  new client.Gauge({
    name: 'cf_ledger_drain_buffer',
    help: 'Log lines and bytes waiting in syslog drain buffers',
    labelNames: ['unit'],
    ...reg,
    collect() {
      const all = src.drains()
      this.set({ unit: 'lines' }, all.reduce((n, d) => n + d.buffered_lines, 0))
      this.set({ unit: 'bytes' }, all.reduce((n, d) => n + d.buffered_bytes, 0))
    },
  })
  new client.Gauge({
    name: 'cf_ledger_drain_dropped_lines',
    help: 'Log lines dropped by syslog drains (full buffers) since start',
    ...reg,
    collect() {
      this.set(src.drains().reduce((n, d) => n + d.dropped, 0))
    },
  })
  new client.Gauge({
    name: 'cf_ledger_db_pool_connections',
    help: 'Database connections: in use, open, and requests waiting for one',
    labelNames: ['state'],
    ...reg,
    collect() {
      const p = src.store.poolUse()
      this.set({ state: 'in_use' }, p.inUse)
      this.set({ state: 'open' }, p.open)
      this.set({ state: 'waiting' }, p.waiting)
    },
  })

  async function readDatabase(): Promise<void> {
    try {
      const f = await ledgerFacts(src.store.db)
      for (const s of TASK_STATES) tasks.set({ state: s }, f.tasks?.[s] ?? 0)
      queue.set(f.tasks?.PENDING ?? 0)
      events.set(Number(f.seq ?? 0))
      if (f.checkpoint) checkpointAge.set((Date.now() - new Date(f.checkpoint).getTime()) / 1000)
      leaves.set(Number(f.leaves ?? 0))
      if (f.logCheckpoint) logCheckpointAge.set((Date.now() - new Date(f.logCheckpoint).getTime()) / 1000)
      up.set(1)
    } catch {
      // During an outage the in-process values are still worth scraping.
      up.set(0)
    }
  }

  return {
    contentType: registry.contentType,
    observeRequest(method, route, status, seconds) {
      requests.observe({ method, route, status: String(status) }, seconds)
    },
    async render() {
      await readDatabase()
      return registry.metrics()
    },
  }
}

// Retention without silent loss. CC deletes events older than cutoff_age_in_days in batches of
// 1000; cf-ledger first writes each batch to a gzip-compressed NDJSON segment (plus a JSON
// sidecar with its SHA-256 and chain anchor), then, in one transaction, records the segment in
// `ledger_archives` and deletes its events. A crash before that commit leaves an orphan segment
// that the next run replaces (the events are still in the table); a crash after it leaves a
// recorded segment and no events. Either way every event is in exactly one place, and
// `cf-ledger verify` checks the segments and the remaining chain as one chain.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { eventHash, GENESIS_HASH, type ChainedFields } from './chain.ts'
import type { EventFields } from './chain-format.ts'
import { soleLeader, type Leadership } from '../cluster/leader.ts'

export interface ArchivedEvent extends EventFields<string> {
  readonly prev_hash: string
  readonly hash: string
}

/** A segment's record, in `ledger_archives` and in its `.json` sidecar. */
export interface SegmentRecord {
  readonly first_seq: number
  readonly last_seq: number
  readonly event_count: number
  readonly file: string
  /** SHA-256 of the .ndjson.gz file's bytes. */
  readonly sha256: string
  /** The chain hash before the segment's first event (its prev_hash): where it hangs on the chain. */
  readonly anchor_hash: string
  /** The hash of its last event; the next segment's or the table's first event links to it. */
  readonly last_hash: string
  readonly archived_at: string
}

export interface PruneOptions {
  readonly archiveDir: string
  readonly cutoffDays: number
  readonly batchSize: number
  readonly logger?: Logger
  /** Test-only: `prune-after-archive` or `prune-after-delete` kills the process there. */
  readonly fault?: string
  /** Checked between batches: a stopping server does not wait for a long run to finish. */
  readonly stopped?: () => boolean
}

export interface PruneResult {
  readonly archived: number
  readonly segments: number
  readonly stopped?: string
}

const SEGMENT = /^events-(\d{12})-(\d{12})\.ndjson\.gz$/

export function segmentFileName(first: number, last: number): string {
  return `events-${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.ndjson.gz`
}

export function toChained(e: ArchivedEvent): ChainedFields {
  return { ...e, created_at: new Date(e.created_at) }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Writes a file so that it is either absent or complete and durable under its final name. */
function writeDurably(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  fsyncDir(path.dirname(file))
}

export function readSegment(archiveDir: string, file: string): { bytes: Buffer; events: ArchivedEvent[] } {
  const bytes = fs.readFileSync(path.join(archiveDir, file))
  const text = zlib.gunzipSync(bytes).toString('utf8')
  const events = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ArchivedEvent)
  return { bytes, events }
}

export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex')

function die(fault: string | undefined, point: string, logger?: Logger): void {
  if (fault !== point) return
  logger?.warn({ point }, 'fault injection: killing the process')
  process.kill(process.pid, 'SIGKILL')
}

/** Removes segment files no `ledger_archives` row records: leftovers of a run that crashed before its commit. */
async function removeOrphans(db: Db, archiveDir: string, logger?: Logger): Promise<void> {
  if (!fs.existsSync(archiveDir)) return
  const recorded = new Set((await sql<{ file: string }>`select file from ledger_archives`.execute(db)).rows.map((r) => r.file))
  for (const f of fs.readdirSync(archiveDir)) {
    const base = f.replace(/\.json$/, '')
    if ((SEGMENT.test(base) && !recorded.has(base)) || /\.tmp-\d+$/.test(f)) {
      logger?.warn({ file: f }, 'removing an archive segment left by an interrupted prune')
      fs.rmSync(path.join(archiveDir, f), { force: true })
    }
  }
}

type Row = Omit<ArchivedEvent, 'created_at' | 'seq'> & { seq: number | string; created_at: Date | string }

/**
 * Archives and deletes the oldest events, batch by batch, while they are older than the cutoff
 * (by created_at, on the database clock, as CC). Only a prefix of the chain is pruned, so an
 * old event behind a newer one waits for it: retention may run late, never lose.
 */
export async function pruneEvents(db: Db, opts: PruneOptions): Promise<PruneResult> {
  const { archiveDir, logger } = opts
  fs.mkdirSync(archiveDir, { recursive: true })
  await removeOrphans(db, archiveDir, logger)
  const cutoff = (await sql<{ t: Date | string }>`select now() - make_interval(days => ${opts.cutoffDays}) as t`.execute(db)).rows[0]!.t
  let archived = 0
  let segments = 0
  for (;;) {
    if (opts.stopped?.()) return { archived, segments, stopped: 'the server is stopping' }
    const step = await db.transaction().execute(async (tx) => {
      // The head's row lock orders this with every appender (and any other pruner).
      await sql`select seq from ledger_head where id = 1 for update`.execute(tx)
      const rows = (
        await sql<Row>`select seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
          actee_name, metadata, space_guid, organization_guid, prev_hash, hash from events
          order by seq limit ${opts.batchSize}`.execute(tx)
      ).rows
      // The prefix of the chain older than the cutoff.
      const young = rows.findIndex((r) => new Date(r.created_at).getTime() >= new Date(cutoff).getTime())
      const old = young === -1 ? rows : rows.slice(0, young)
      if (!old.length) return { done: true as const }
      const events: ArchivedEvent[] = old.map((r) => ({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at).toISOString() }))
      const prev = (await sql<{ last_seq: number | string; last_hash: string }>`
        select last_seq, last_hash from ledger_archives order by last_seq desc limit 1`.execute(tx)).rows[0]
      const start = prev ? { seq: Number(prev.last_seq), hash: prev.last_hash } : { seq: 0, hash: GENESIS_HASH }
      // Never archive a broken chain: the table, where verify names the damage, keeps it.
      let expectedSeq = start.seq + 1
      let chain = start.hash
      for (const e of events) {
        if (e.seq !== expectedSeq || e.prev_hash !== chain || eventHash(chain, toChained(e)) !== e.hash) {
          return { done: true as const, stopped: `the chain does not verify at seq ${e.seq}; run cf-ledger verify` }
        }
        chain = e.hash
        expectedSeq++
      }
      const first = events[0]!
      const last = events.at(-1)!
      const file = segmentFileName(first.seq, last.seq)
      const gz = zlib.gzipSync(events.map((e) => JSON.stringify(e)).join('\n') + '\n')
      const record: SegmentRecord = {
        first_seq: first.seq,
        last_seq: last.seq,
        event_count: events.length,
        file,
        sha256: sha256(gz),
        anchor_hash: first.prev_hash,
        last_hash: last.hash,
        archived_at: new Date().toISOString(),
      }
      writeDurably(path.join(archiveDir, file), gz)
      writeDurably(path.join(archiveDir, `${file}.json`), `${JSON.stringify(record, null, 2)}\n`)
      die(opts.fault, 'prune-after-archive', logger)
      await sql`insert into ledger_archives (first_seq, last_seq, event_count, file, sha256, anchor_hash, last_hash, archived_at)
        values (${record.first_seq}, ${record.last_seq}, ${record.event_count}, ${record.file}, ${record.sha256},
          ${record.anchor_hash}, ${record.last_hash}, ${record.archived_at})`.execute(tx)
      const deleted = await sql`delete from events where seq >= ${first.seq} and seq <= ${last.seq}`.execute(tx)
      if (Number(deleted.numAffectedRows) !== events.length) throw new Error(`pruning ${file}: deleted ${deleted.numAffectedRows} of ${events.length} events`)
      return { done: false as const, count: events.length }
    })
    if (step.done) {
      if ('stopped' in step && step.stopped) {
        logger?.error({ reason: step.stopped }, 'pruning stopped')
        return { archived, segments, stopped: step.stopped }
      }
      return { archived, segments }
    }
    archived += step.count
    segments++
    die(opts.fault, 'prune-after-delete', logger)
  }
}

/** Runs pruning daily at HH:MM UTC, or every N seconds (and at start) when an interval is set. */
export class PruneScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly db: Db,
    private readonly opts: PruneOptions,
    private readonly schedule: { readonly at: string | undefined; readonly intervalSeconds: number },
    private readonly logger: Logger,
    /** Only the elected pruner prunes when several servers share the database. */
    private readonly leader: Leadership = soleLeader(),
  ) {}

  private run(): Promise<unknown> {
    this.running = this.running
      .then(async () => {
        if (this.stopped || !(await this.leader.ensure())) return
        const r = await pruneEvents(this.db, { ...this.opts, stopped: () => this.stopped })
        if (r.archived) this.logger.info({ archived: r.archived, segments: r.segments }, 'pruned audit events into archives')
      })
      .catch((err) => this.logger.error({ err }, 'pruning audit events failed'))
    return this.running
  }

  /** Milliseconds from `now` to the next HH:MM in UTC. */
  static delayUntil(at: string, now = new Date()): number {
    const [h, m] = at.split(':').map(Number) as [number, number]
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m))
    if (next.getTime() <= now.getTime()) next.setUTCDate(next.getUTCDate() + 1)
    return next.getTime() - now.getTime()
  }

  start(): void {
    if (this.schedule.intervalSeconds > 0) {
      void this.run()
      this.timer = setInterval(() => void this.run(), this.schedule.intervalSeconds * 1000)
      this.timer.unref()
      return
    }
    if (!this.schedule.at) return
    const arm = () => {
      this.timer = setTimeout(() => {
        void this.run().then(() => {
          if (!this.stopped) arm()
        })
      }, PruneScheduler.delayUntil(this.schedule.at!))
      this.timer.unref()
    }
    arm()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
    await this.leader.close()
  }
}

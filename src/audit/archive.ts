// Retention without silent loss. CC deletes events older than cutoff_age_in_days in batches of
// 1000; cf-ledger first writes each batch to a gzip-compressed NDJSON segment (plus a JSON
// sidecar with its SHA-256 and anchor), then, in one transaction, records the segment in
// `ledger_archives` and deletes its events. A crash before that commit leaves an orphan segment
// that the next run replaces (the events are still in the table); a crash after it leaves a
// recorded segment and no events. Either way every event is in exactly one place.
//
// Two kinds of segment, in this order: *chain* segments hold the hash chain's events in seq
// order, anchored by chain hashes, and `cf-ledger verify` walks them and the table's chained
// events as one chain; once the chain's events are all archived, *leaf* segments hold later
// events in the log's leaf order, each with its leaf index, and verify checks every one against
// its leaf in the tiles (which are never pruned). See docs/decisions/0010-unlocked-appends.md.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { eventHash, GENESIS_HASH, type ChainedFields } from './chain.ts'
import { eventEntry } from '../ledger/leaf.ts'
import { readTiles } from '../ledger/log-store.ts'
import { leafHash } from '../ledger/merkle.ts'
import { hashAt, TILE_WIDTH } from '../ledger/tiles.ts'
import type { EventFields } from './chain-format.ts'
import { soleLeader, type Leadership } from '../cluster/leader.ts'

export interface ArchivedEvent extends EventFields<string> {
  /** The chain fields; null in leaf segments. */
  readonly prev_hash: string | null
  readonly hash: string | null
  /** The event's leaf in the log; leaf segments only. */
  readonly leaf_index?: number
}

/** A segment's record, in `ledger_archives` and in its `.json` sidecar. */
export interface SegmentRecord {
  /** The seqs of its first and last events (in seq order for chain segments, leaf order for leaf segments). */
  readonly first_seq: number
  readonly last_seq: number
  readonly event_count: number
  readonly file: string
  /** SHA-256 of the .ndjson.gz file's bytes. */
  readonly sha256: string
  /** The chain hash before the segment's first event (its prev_hash): where it hangs on the chain. Null for leaf segments. */
  readonly anchor_hash: string | null
  /** The hash of its last event; the next segment's or the table's first event links to it. Null for leaf segments. */
  readonly last_hash: string | null
  /** The leaf range of a leaf segment (its events' lowest and highest leaf index); null for chain segments. */
  readonly first_leaf?: number | null
  readonly last_leaf?: number | null
  readonly archived_at: string
}

export const isLeafSegment = (r: Pick<SegmentRecord, 'first_leaf'>): boolean => r.first_leaf !== null && r.first_leaf !== undefined

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

/** Chain segments are named by seq range, leaf segments by leaf range. */
export const SEGMENT = /^events-(leaves-)?(\d{12})-(\d{12})\.ndjson\.gz$/

export function segmentFileName(first: number, last: number, leaves = false): string {
  return `events-${leaves ? 'leaves-' : ''}${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.ndjson.gz`
}

export function toChained(e: Omit<ArchivedEvent, 'prev_hash' | 'hash'>): ChainedFields {
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

type Row = Omit<ArchivedEvent, 'created_at' | 'seq' | 'leaf_index'> & { seq: number | string; created_at: Date | string; leaf_index?: number | string }

const COLUMNS = sql`e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name, e.actor_username, e.actee, e.actee_type,
  e.actee_name, e.metadata, e.space_guid, e.organization_guid, e.prev_hash, e.hash`

type Step = { done: true; stopped?: string } | { done: false; count: number }

/** The batch's prefix older than the cutoff: an old event behind a newer one waits for it. */
function olderPrefix(rows: readonly Row[], cutoff: Date | string): ArchivedEvent[] {
  const young = rows.findIndex((r) => new Date(r.created_at).getTime() >= new Date(cutoff).getTime())
  return (young === -1 ? rows : rows.slice(0, young)).map(({ leaf_index, ...r }) => ({
    ...r,
    seq: Number(r.seq),
    created_at: new Date(r.created_at).toISOString(),
    ...(leaf_index === undefined ? {} : { leaf_index: Number(leaf_index) }),
  }))
}

/** The next chain segment: chained events in seq order, checked link by link before they leave the table. */
async function chainBatch(tx: Db, head: number, batchSize: number, cutoff: Date | string): Promise<{ events: ArchivedEvent[]; record: Omit<SegmentRecord, 'file' | 'sha256' | 'archived_at'> } | string | undefined> {
  // Chained events all sit at or below the head (decisions/0010): an index range, not a scan of every later event.
  const rows = (await sql<Row>`select ${COLUMNS} from events e
    where e.seq <= ${head} and e.hash is not null order by e.seq limit ${batchSize}`.execute(tx)).rows
  const events = olderPrefix(rows, cutoff)
  if (!events.length) return undefined
  const prev = (await sql<{ last_seq: number | string; last_hash: string }>`
    select last_seq, last_hash from ledger_archives where first_leaf is null order by last_seq desc limit 1`.execute(tx)).rows[0]
  const start = prev ? { seq: Number(prev.last_seq), hash: prev.last_hash } : { seq: 0, hash: GENESIS_HASH }
  // Never archive a broken chain: the table, where verify names the damage, keeps it.
  let expectedSeq = start.seq + 1
  let chain = start.hash
  for (const e of events) {
    if (e.seq !== expectedSeq || e.prev_hash !== chain || eventHash(chain, toChained(e)) !== e.hash) {
      return `the chain does not verify at seq ${e.seq}; run cf-ledger verify`
    }
    chain = e.hash!
    expectedSeq++
  }
  const first = events[0]!
  const last = events.at(-1)!
  return { events, record: { first_seq: first.seq, last_seq: last.seq, event_count: events.length, anchor_hash: first.prev_hash, last_hash: last.hash, first_leaf: null, last_leaf: null } }
}

/**
 * The next leaf segment: events after the last archived leaf, in leaf order, each checked against
 * its leaf before it leaves the table. Only once the chain's events are all archived (the caller
 * decides), so the two kinds never interleave; events not yet integrated wait for their leaf.
 */
async function leafBatch(tx: Db, batchSize: number, cutoff: Date | string): Promise<{ events: ArchivedEvent[]; record: Omit<SegmentRecord, 'file' | 'sha256' | 'archived_at'> } | string | undefined> {
  const after = Number((await sql<{ l: number | string | null }>`select max(last_leaf) as l from ledger_archives`.execute(tx)).rows[0]?.l ?? -1)
  const rows = (await sql<Row>`select ${COLUMNS}, l.leaf_index from ledger_leaves l join events e on e.seq = l.event_seq
    where l.leaf_index > ${after} order by l.leaf_index limit ${batchSize}`.execute(tx)).rows
  const events = olderPrefix(rows, cutoff)
  if (!events.length) return undefined
  const stored = await readTiles(tx, [...new Set(events.map((e) => Math.floor(e.leaf_index! / TILE_WIDTH)))].map((index) => ({ level: 0, index })))
  for (const e of events) {
    const tile = stored.get(`0/${Math.floor(e.leaf_index! / TILE_WIDTH)}`)
    if (!tile || !leafHash(eventEntry(toChained(e))).equals(hashAt(tile, e.leaf_index! % TILE_WIDTH))) {
      return `event seq ${e.seq} does not hash to its leaf ${e.leaf_index}; run cf-ledger verify`
    }
  }
  const first = events[0]!
  const last = events.at(-1)!
  return { events, record: { first_seq: first.seq, last_seq: last.seq, event_count: events.length, anchor_hash: null, last_hash: null, first_leaf: first.leaf_index!, last_leaf: last.leaf_index! } }
}

/**
 * Archives and deletes the oldest events, batch by batch, while they are older than the cutoff
 * (by created_at, on the database clock, as CC): the chain's events first, in seq order, then
 * later events in leaf order. Only a prefix is pruned, so an old event behind a newer one waits
 * for it: retention may run late, never lose.
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
    const step = await db.transaction().execute(async (tx): Promise<Step> => {
      // Serialises pruners (appenders no longer take this row: decisions/0010).
      const head = Number((await sql<{ seq: number | string }>`select seq from ledger_head where id = 1 for update`.execute(tx)).rows[0]!.seq)
      // Chain segments while any event up to the head is left; leaf segments after.
      const chainLeft = (await sql`select 1 from events where seq <= ${head} limit 1`.execute(tx)).rows.length > 0
      const batch = chainLeft ? await chainBatch(tx, head, opts.batchSize, cutoff) : await leafBatch(tx, opts.batchSize, cutoff)
      if (batch === undefined) return { done: true }
      if (typeof batch === 'string') return { done: true, stopped: batch }
      const { events } = batch
      const file = isLeafSegment(batch.record) ? segmentFileName(batch.record.first_leaf!, batch.record.last_leaf!, true) : segmentFileName(batch.record.first_seq, batch.record.last_seq)
      const gz = zlib.gzipSync(events.map((e) => JSON.stringify(e)).join('\n') + '\n')
      const r = batch.record
      const record: SegmentRecord = {
        first_seq: r.first_seq,
        last_seq: r.last_seq,
        event_count: r.event_count,
        file,
        sha256: sha256(gz),
        anchor_hash: r.anchor_hash,
        last_hash: r.last_hash,
        first_leaf: r.first_leaf,
        last_leaf: r.last_leaf,
        archived_at: new Date().toISOString(),
      }
      writeDurably(path.join(archiveDir, file), gz)
      writeDurably(path.join(archiveDir, `${file}.json`), `${JSON.stringify(record, null, 2)}\n`)
      die(opts.fault, 'prune-after-archive', logger)
      await sql`insert into ledger_archives (first_seq, last_seq, event_count, file, sha256, anchor_hash, last_hash, first_leaf, last_leaf, archived_at)
        values (${record.first_seq}, ${record.last_seq}, ${record.event_count}, ${record.file}, ${record.sha256},
          ${record.anchor_hash}, ${record.last_hash}, ${record.first_leaf}, ${record.last_leaf}, ${record.archived_at})`.execute(tx)
      const deleted = await sql`delete from events where seq = any(${sql.val(events.map((e) => e.seq))}::bigint[])`.execute(tx)
      if (Number(deleted.numAffectedRows) !== events.length) throw new Error(`pruning ${file}: deleted ${deleted.numAffectedRows} of ${events.length} events`)
      return { done: false, count: events.length }
    })
    if (step.done) {
      if (step.stopped) {
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

// Phase 3 of `cf-ledger verify` (verify.ts): the chain segments of the archives and then the
// table's chained events read as one hash chain, each row checked against the link before it, the
// recomputed chain against every valid checkpoint. Events after the chain's end (decisions/0010)
// are checked against their leaves by the log phase instead.
import { toChained } from './archive.ts'
import { eventHash, GENESIS_HASH, type ChainedFields } from './chain.ts'
import type { Checkpoint } from './checkpoints.ts'
import type { ChainEnd, Findings, ProblemKind, Query, Segment } from './verify-report.ts'

interface ChainRow extends ChainedFields {
  readonly prev_hash: string
  readonly hash: string
  /** Where the row was read: the table or an archive segment file. */
  readonly source: string
}

type DbRow = Omit<ChainRow, 'seq' | 'created_at' | 'source' | 'prev_hash' | 'hash'> & { seq: number | string; created_at: Date | string; prev_hash: string | null; hash: string | null }

const LOOKAHEAD = 64
const WALK_KINDS: ReadonlySet<ProblemKind> = new Set(['edited', 'deleted', 'inserted', 'reordered', 'duplicated'])
const BATCH = 5000

/** Rows in seq order from the archives, then the table, with a peek-ahead buffer. */
class ChainReader {
  private buffer: ChainRow[] = []
  private segmentIndex = 0
  private tableAfter: number | undefined
  private tableDone = false

  constructor(
    private readonly q: Query,
    private readonly segments: readonly Segment[],
  ) {}

  private async fill(n: number): Promise<void> {
    while (this.buffer.length < n) {
      if (this.segmentIndex < this.segments.length) {
        const s = this.segments[this.segmentIndex++]!
        for (const e of s.events ?? []) this.buffer.push({ ...toChained(e), prev_hash: e.prev_hash ?? '', hash: e.hash ?? '', source: `archive ${s.record.file}` })
        continue
      }
      if (this.tableDone) return
      // The chain's events: up to the head, where the chain ended (decisions/0010); a row there
      // without a hash had it removed. Chained rows past the head are phase 4's.
      const rows = await this.q<DbRow>(
        `select seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name,
          metadata, space_guid, organization_guid, prev_hash, hash from events
          where seq <= (select seq from ledger_head where id = 1) ${this.tableAfter === undefined ? '' : 'and seq > $2'}
          order by seq limit $1`,
        this.tableAfter === undefined ? [BATCH] : [BATCH, this.tableAfter],
      )
      if (rows.length < BATCH) this.tableDone = true
      for (const r of rows) this.buffer.push({ ...r, prev_hash: r.prev_hash ?? '', hash: r.hash ?? '', seq: Number(r.seq), created_at: new Date(r.created_at), source: 'table' })
      if (rows.length) this.tableAfter = Number(rows.at(-1)!.seq)
    }
  }

  async next(): Promise<ChainRow | undefined> {
    await this.fill(1 + LOOKAHEAD)
    return this.buffer.shift()
  }

  /** Up to LOOKAHEAD rows after the one just returned. */
  ahead(): readonly ChainRow[] {
    return this.buffer
  }
}

function describe(r: { seq: number; guid: string; type?: string; source?: string }): string {
  return `seq ${r.seq} (guid ${r.guid}${r.type ? `, ${r.type}` : ''}${r.source && r.source !== 'table' ? `, in ${r.source}` : ''})`
}

/** Phase 3, the walk: every chained row in seq order, chain segments then table, checking each link. */
export async function walkChain(q: Query, segments: readonly Segment[], validCheckpoints: ReadonlyMap<number, Checkpoint>, f: Findings): Promise<ChainEnd> {
  const { add, problems, warnings } = f
  const records = segments.map((s) => s.record)
  const reader = new ChainReader(q, segments)
  const lastArchived = records.length ? records.at(-1)!.last_seq : 0
  let expectedSeq = 1
  let linkHash = GENESIS_HASH // the stored hash the next row must link to
  let computed: string | undefined = GENESIS_HASH // the chain recomputed from contents; undefined after a gap
  let prev: ChainRow | undefined
  let prevPrev: ChainRow | undefined
  let reportedCheckpoint = false
  // A checkpoint mismatch waits one row: an edit or insert at the checkpoint's own seq is named
  // precisely only by the next row's link, and the precise finding is the one worth reporting.
  let pendingCheckpoint: Parameters<typeof add>[0] | undefined
  const flushCheckpoint = () => {
    if (pendingCheckpoint && !problems.some((p) => WALK_KINDS.has(p.kind))) add(pendingCheckpoint)
    pendingCheckpoint = undefined
  }
  let tableEvents = 0
  let firstSeq: number | null = null
  let lastSeq: number | null = null
  /** A reported swap: the partner row to pass over, and the hash the row after it links to. */
  let swap: { partnerSeq: number; linkAfter: string } | undefined
  let segmentCursor = 0
  let backwards = 0
  for (let r = await reader.next(); r; r = await reader.next()) {
    if (r.source === 'table') tableEvents++
    firstSeq ??= r.seq
    // Jump over a segment whose file is missing (already reported), trusting its record.
    while (segmentCursor < segments.length && segments[segmentCursor]!.record.last_seq < r.seq) {
      const s = segments[segmentCursor++]!
      if (!s.events && expectedSeq <= s.record.last_seq && r.seq > s.record.last_seq) {
        expectedSeq = s.record.last_seq + 1
        linkHash = s.record.last_hash ?? ''
        computed = undefined
        prev = prevPrev = undefined
      }
    }
    if (r.source === 'table' && r.seq <= lastArchived) {
      add({ kind: 'duplicated', seq: r.seq, guid: r.guid, message: `event ${describe(r)} is both archived and still in the table` })
      continue
    }
    const own = eventHash(r.prev_hash, r)
    const selfOk = own === r.hash
    if (swap?.partnerSeq === r.seq) {
      // The second half of a reported swap.
    } else if (r.seq > expectedSeq) {
      const range = r.seq - 1 === expectedSeq ? `seq ${expectedSeq}` : `seq ${expectedSeq}..${r.seq - 1}`
      add({ kind: 'deleted', seq: expectedSeq, message: `event ${range} was deleted (the chain jumps from seq ${expectedSeq - 1} to ${describe(r)})` })
      computed = undefined
    } else if (r.seq < expectedSeq) {
      add({ kind: 'duplicated', seq: r.seq, guid: r.guid, message: `event ${describe(r)} appears twice in the chain` })
      continue
    } else if (r.prev_hash === linkHash) {
      if (!selfOk) add({ kind: 'edited', seq: r.seq, guid: r.guid, message: `event ${describe(r)} was edited: its content no longer matches its hash` })
    } else if (prevPrev && r.prev_hash === prevPrev.hash) {
      add({ kind: 'inserted', seq: prev!.seq, guid: prev!.guid, message: `event ${describe(prev!)} was inserted: the next event links past it to seq ${prevPrev.seq}` })
    } else if (reader.ahead().some((a) => a.hash === r!.prev_hash)) {
      const partner = reader.ahead().find((a) => a.hash === r!.prev_hash)!
      add({ kind: 'reordered', seq: r.seq, guid: r.guid, message: `event ${describe(r)} is out of order: it follows the event now at seq ${partner.seq} (${partner.guid})` })
      if (partner.seq === r.seq + 1) swap = { partnerSeq: partner.seq, linkAfter: r.hash }
    } else if (selfOk && prev) {
      add({ kind: 'edited', seq: prev.seq, guid: prev.guid, message: `event ${describe(prev)} was edited and re-hashed: the next event (seq ${r.seq}) still links to its original hash` })
    } else if (!prev) {
      const from = expectedSeq === 1 ? 'the genesis hash' : `the end of the archives (seq ${expectedSeq - 1})`
      add({ kind: 'deleted', seq: r.seq, guid: r.guid, message: `the chain's first stored event ${describe(r)} does not link to ${from}: earlier events were deleted or it was altered` })
    } else {
      add({ kind: 'deleted', seq: r.seq, guid: r.guid, message: `an event before ${describe(r)} was deleted and the later events renumbered: it links to a hash no stored event has` })
    }
    flushCheckpoint()
    // On an intact chain the recomputed hash is the row's own: hash once.
    computed = computed === undefined ? undefined : computed === r.prev_hash ? own : eventHash(computed, r)
    const cp = validCheckpoints.get(r.seq)
    // A re-hashed chain shows only here; after a precise finding the mismatch adds nothing.
    if (cp && computed !== undefined && computed !== cp.hash && !reportedCheckpoint && !problems.some((p) => WALK_KINDS.has(p.kind))) {
      reportedCheckpoint = true
      const earlier = [...validCheckpoints.keys()].filter((s) => s < r!.seq).sort((a, b) => b - a)[0]
      pendingCheckpoint = {
        kind: 'checkpoint',
        seq: (earlier ?? 0) + 1,
        message: `the chain at seq ${r.seq} does not match the checkpoint signed ${cp.signed_at}: an event in seq ${(earlier ?? 0) + 1}..${r.seq} was changed and the chain re-hashed after it`,
      }
    }
    if (prev && r.created_at.getTime() < prev.created_at.getTime() && !backwards++) {
      warnings.push(`created_at goes backwards at ${describe(r)}: the server keeps it non-decreasing, so this row was written by something else or edited`)
    }
    expectedSeq = r.seq + 1
    linkHash = swap?.partnerSeq === r.seq ? swap.linkAfter : r.hash
    if (swap?.partnerSeq === r.seq) swap = undefined
    prevPrev = prev
    prev = r
    lastSeq = r.seq
  }
  flushCheckpoint()
  // Segments after the last row read (missing files at the end).
  for (const s of segments.slice(segmentCursor)) {
    if (!s.events && s.record.last_seq >= expectedSeq) {
      expectedSeq = s.record.last_seq + 1
      linkHash = s.record.last_hash ?? ''
      lastSeq = s.record.last_seq
    }
  }

  return { expectedSeq, linkHash, firstSeq, lastSeq, tableEvents }
}

// `cf-ledger verify`: walks the archived segments and then the events table as one hash chain,
// checks every signed checkpoint against the recomputed chain, and names the first event that
// was edited, deleted, inserted or reordered (docs/audit-events.md, "Verifying the ledger").
import fs from 'node:fs'
import path from 'node:path'
import type { KeyObject } from 'node:crypto'
import { readSegment, sha256, toChained, type ArchivedEvent, type SegmentRecord } from './archive.ts'
import { eventHash, GENESIS_HASH, type ChainedFields } from './chain.ts'
import { checkpointSignatureValid, type Checkpoint } from './checkpoints.ts'

export type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'duplicated' | 'checkpoint' | 'archive' | 'head'

export interface Problem {
  readonly kind: ProblemKind
  /** The seq the problem is pinned to (the first affected position); absent for global problems. */
  readonly seq?: number
  readonly guid?: string
  readonly message: string
}

export interface VerifyOptions {
  readonly archiveDir: string
  /** Public keys checkpoints may be signed with, by key id. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>
  /** The server's own copy of the checkpoints (checkpoints.ndjson), when available. */
  readonly checkpointLog?: string
  readonly maxProblems?: number
}

export interface VerifyReport {
  readonly ok: boolean
  readonly problems: Problem[]
  readonly warnings: string[]
  readonly stats: {
    segments: number
    archivedEvents: number
    tableEvents: number
    checkpoints: number
    firstSeq: number | null
    lastSeq: number | null
  }
}

interface ChainRow extends ChainedFields {
  readonly prev_hash: string
  readonly hash: string
  /** Where the row was read: the table or an archive segment file. */
  readonly source: string
}

type DbRow = Omit<ChainRow, 'seq' | 'created_at' | 'source'> & { seq: number | string; created_at: Date | string }

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
    private readonly segments: readonly { record: SegmentRecord; events: ArchivedEvent[] | undefined }[],
  ) {}

  private async fill(n: number): Promise<void> {
    while (this.buffer.length < n) {
      if (this.segmentIndex < this.segments.length) {
        const s = this.segments[this.segmentIndex++]!
        for (const e of s.events ?? []) this.buffer.push({ ...toChained(e), prev_hash: e.prev_hash, hash: e.hash, source: `archive ${s.record.file}` })
        continue
      }
      if (this.tableDone) return
      const rows = await this.q<DbRow>(
        `select seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name,
          metadata, space_guid, organization_guid, prev_hash, hash from events
          ${this.tableAfter === undefined ? '' : 'where seq > $2'} order by seq limit $1`,
        this.tableAfter === undefined ? [BATCH] : [BATCH, this.tableAfter],
      )
      if (rows.length < BATCH) this.tableDone = true
      for (const r of rows) this.buffer.push({ ...r, seq: Number(r.seq), created_at: new Date(r.created_at), source: 'table' })
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

/** Every trusted public key of a data directory: the configured key's and checkpoint-keys/*.pub.pem. */
export function publicKeysIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pub.pem'))
    .map((f) => path.join(dir, f))
}

function readCheckpointLog(file: string | undefined, warnings: string[]): Checkpoint[] {
  if (!file || !fs.existsSync(file)) return []
  const out: Checkpoint[] = []
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return
      try {
        out.push(JSON.parse(line) as Checkpoint)
      } catch {
        warnings.push(`${path.basename(file)} line ${i + 1} is not JSON (a write cut short by a crash?)`)
      }
    })
  return out
}

export async function verifyLedger(q: Query, opts: VerifyOptions): Promise<VerifyReport> {
  const problems: Problem[] = []
  const warnings: string[] = []
  const max = opts.maxProblems ?? 50
  const add = (p: Problem) => {
    if (problems.length < max) problems.push(p)
  }

  // Checkpoints: signatures first, then the table against the server's file copy.
  const tableCheckpoints = (await q<Checkpoint & { seq: number | string; signed_at: Date | string }>(
    'select seq, hash, signed_at, key_id, signature from ledger_checkpoints order by seq',
  )).map((c) => ({ ...c, seq: Number(c.seq), signed_at: new Date(c.signed_at).toISOString() }))
  const logged = readCheckpointLog(opts.checkpointLog, warnings)
  const bySeq = new Map<number, Checkpoint>()
  for (const c of tableCheckpoints) bySeq.set(c.seq, c)
  for (const c of logged) {
    const t = bySeq.get(c.seq)
    if (!t) {
      add({ kind: 'checkpoint', seq: c.seq, message: `the checkpoint at seq ${c.seq} (signed ${c.signed_at}) is in ${path.basename(opts.checkpointLog!)} but was removed from ledger_checkpoints` })
      bySeq.set(c.seq, c)
    } else if (t.hash !== c.hash || t.signature !== c.signature) {
      add({ kind: 'checkpoint', seq: c.seq, message: `the checkpoint at seq ${c.seq} in ledger_checkpoints differs from the server's copy in ${path.basename(opts.checkpointLog!)}` })
    }
  }
  if (opts.checkpointLog && fs.existsSync(opts.checkpointLog)) {
    const inLog = new Set(logged.map((c) => c.seq))
    const notLogged = tableCheckpoints.filter((c) => !inLog.has(c.seq)).length
    if (notLogged) warnings.push(`${notLogged} checkpoint(s) are not in ${path.basename(opts.checkpointLog)} (signed by another server?)`)
  }
  const validCheckpoints = new Map<number, Checkpoint>()
  for (const c of [...bySeq.values()].sort((a, b) => a.seq - b.seq)) {
    const key = opts.trustedKeys.get(c.key_id)
    if (!key) add({ kind: 'checkpoint', seq: c.seq, message: `the checkpoint at seq ${c.seq} is signed by key ${c.key_id}, which is not trusted (pass its public key with --public-key)` })
    else if (!checkpointSignatureValid(c, key)) add({ kind: 'checkpoint', seq: c.seq, message: `the checkpoint at seq ${c.seq} has an invalid signature: it was forged or altered` })
    else validCheckpoints.set(c.seq, c)
  }
  if (!validCheckpoints.size) warnings.push('no valid signed checkpoint: only the hash links are checked, and a consistently re-hashed chain would pass')

  // Archive segments, as recorded in the database, each against its file and sidecar.
  const records = (await q<SegmentRecord & { first_seq: number | string; last_seq: number | string; archived_at: Date | string }>(
    'select first_seq, last_seq, event_count, file, sha256, anchor_hash, last_hash, archived_at from ledger_archives order by first_seq',
  )).map((r) => ({ ...r, first_seq: Number(r.first_seq), last_seq: Number(r.last_seq), event_count: Number(r.event_count) }))
  const segments: { record: SegmentRecord; events: ArchivedEvent[] | undefined }[] = []
  let archivedEvents = 0
  for (const record of records) {
    const where = path.join(opts.archiveDir, record.file)
    if (!fs.existsSync(where)) {
      add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file} (events ${record.first_seq}..${record.last_seq}) is missing from ${opts.archiveDir}` })
      segments.push({ record, events: undefined })
      continue
    }
    let seg
    try {
      seg = readSegment(opts.archiveDir, record.file)
    } catch (err) {
      add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file} cannot be read: ${(err as Error).message}` })
      segments.push({ record, events: undefined })
      continue
    }
    if (sha256(seg.bytes) !== record.sha256) add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file} does not match its recorded SHA-256: the file was changed` })
    const sidecar = `${where}.json`
    if (fs.existsSync(sidecar)) {
      const side = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as SegmentRecord
      if (side.sha256 !== record.sha256 || side.first_seq !== record.first_seq || side.last_seq !== record.last_seq || side.last_hash !== record.last_hash) {
        add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file}: its sidecar disagrees with ledger_archives` })
      }
    } else warnings.push(`archive segment ${record.file} has no sidecar`)
    if (seg.events.length !== record.event_count || seg.events[0]?.seq !== record.first_seq || seg.events.at(-1)?.seq !== record.last_seq) {
      add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file} holds ${seg.events.length} events, not ${record.event_count} (${record.first_seq}..${record.last_seq})` })
    }
    archivedEvents += seg.events.length
    segments.push({ record, events: seg.events })
  }
  if (fs.existsSync(opts.archiveDir)) {
    const recorded = new Set(records.map((r) => r.file))
    for (const f of fs.readdirSync(opts.archiveDir)) {
      if (/^events-\d{12}-\d{12}\.ndjson\.gz$/.test(f) && !recorded.has(f)) {
        warnings.push(`archive segment ${f} is not recorded in ledger_archives (left by an interrupted prune; its events are still in the table)`)
      }
    }
  }

  // The walk.
  const reader = new ChainReader(q, segments)
  const lastArchived = records.length ? records.at(-1)!.last_seq : 0
  let expectedSeq = 1
  let linkHash = GENESIS_HASH // the stored hash the next row must link to
  let computed: string | undefined = GENESIS_HASH // the chain recomputed from contents; undefined after a gap
  let prev: ChainRow | undefined
  let prevPrev: ChainRow | undefined
  let reportedCheckpoint = false
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
        linkHash = s.record.last_hash
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
    // On an intact chain the recomputed hash is the row's own: hash once.
    computed = computed === undefined ? undefined : computed === r.prev_hash ? own : eventHash(computed, r)
    const cp = validCheckpoints.get(r.seq)
    // A re-hashed chain shows only here; after a precise finding the mismatch adds nothing.
    if (cp && computed !== undefined && computed !== cp.hash && !reportedCheckpoint && !problems.some((p) => WALK_KINDS.has(p.kind))) {
      reportedCheckpoint = true
      const earlier = [...validCheckpoints.keys()].filter((s) => s < r!.seq).sort((a, b) => b - a)[0]
      add({
        kind: 'checkpoint',
        seq: (earlier ?? 0) + 1,
        message: `the chain at seq ${r.seq} does not match the checkpoint signed ${cp.signed_at}: an event in seq ${(earlier ?? 0) + 1}..${r.seq} was changed and the chain re-hashed after it`,
      })
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
  // Segments after the last row read (missing files at the end).
  for (const s of segments.slice(segmentCursor)) {
    if (!s.events && s.record.last_seq >= expectedSeq) {
      expectedSeq = s.record.last_seq + 1
      linkHash = s.record.last_hash
      lastSeq = s.record.last_seq
    }
  }

  // The end of the chain: the ledger head and any checkpoint past it.
  const head = (await q<{ seq: number | string; hash: string }>('select seq, hash from ledger_head where id = 1'))[0]
  const end = lastSeq ?? 0
  if (head) {
    const headSeq = Number(head.seq)
    if (headSeq > end) add({ kind: 'deleted', seq: end + 1, message: `event seq ${end + 1}..${headSeq} at the end of the chain was deleted (the ledger head is at seq ${headSeq})` })
    else if (headSeq < end) add({ kind: 'inserted', seq: headSeq + 1, message: `event seq ${headSeq + 1}..${end} was inserted after the ledger head (seq ${headSeq})` })
    else if (end > 0 && head.hash !== linkHash) add({ kind: 'head', seq: end, message: `the ledger head's hash does not match the last event (seq ${end})` })
  }
  const beyond = [...validCheckpoints.values()].filter((c) => c.seq > end)
  if (beyond.length) {
    const top = beyond.at(-1)!
    add({ kind: 'deleted', seq: end + 1, message: `event seq ${end + 1}..${top.seq} was deleted: a checkpoint signed ${top.signed_at} covers seq ${top.seq}, but the chain ends at seq ${end}` })
  }

  problems.sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER))
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    stats: { segments: records.length, archivedEvents, tableEvents, checkpoints: validCheckpoints.size, firstSeq, lastSeq },
  }
}

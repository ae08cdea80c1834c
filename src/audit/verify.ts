// `cf-ledger verify`: walks the archived segments and then the events table as one hash chain,
// checks every signed checkpoint against the recomputed chain, and names the first event that
// was edited, deleted, inserted or reordered (docs/audit-events.md, "Verifying the ledger").
// Four phases: checkpoints, archives, the walk (verify-walk.ts), the end of the chain.
import fs from 'node:fs'
import path from 'node:path'
import type { KeyObject } from 'node:crypto'
import { isLeafSegment, readSegment, SEGMENT, sha256, type ArchivedEvent, type SegmentRecord } from './archive.ts'
import { checkpointSignatureValid, type Checkpoint } from './checkpoints.ts'
import type { ChainEnd, Findings, Problem, Query, Segment, VerifyReport } from './verify-report.ts'
import { walkChain } from './verify-walk.ts'
import { verifyLog, type ArchivedLookup } from '../ledger/verify-log.ts'
import type { ParallelLeaves } from '../ledger/verify-leaves-pool.ts'

export interface VerifyOptions {
  readonly archiveDir: string
  /** Public keys checkpoints may be signed with, by key id. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>
  /** The server's own copy of the checkpoints (checkpoints.ndjson), when available. */
  readonly checkpointLog?: string
  readonly maxProblems?: number
  /** The ledger log's signer key when configured (CF_LEDGER_LOG_KEY); else the store's own seed is trusted. */
  readonly logKey?: string | undefined
  /** PostgreSQL: the leaf pass in worker threads on the same snapshot. */
  readonly parallel?: ParallelLeaves | undefined
}

export async function verifyLedger(q: Query, opts: VerifyOptions): Promise<VerifyReport> {
  const problems: Problem[] = []
  const max = opts.maxProblems ?? 50
  const f: Findings = {
    problems,
    warnings: [],
    add: (p) => {
      if (problems.length < max) problems.push(p)
    },
  }
  const validCheckpoints = await checkCheckpoints(q, opts, f)
  const { segments, archivedEvents } = await checkArchives(q, opts, f)
  const chainSegments = segments.filter((s) => !isLeafSegment(s.record))
  const chain = await walkChain(q, chainSegments, validCheckpoints, f)
  await checkEnd(q, chain, validCheckpoints, f)
  // After the walk: at the same seq, the chain's more precise finding stays first (the sort is stable).
  const log = await verifyLog(q, { archived: archivedLookup(segments), archivedSeqs: archivedSeqs(segments), logKey: opts.logKey, max, parallel: opts.parallel })
  for (const p of log?.problems ?? []) f.add(p)
  f.warnings.push(...(log?.warnings ?? []))
  problems.sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER))
  const { firstSeq, lastSeq } = chain
  // Chained ones were walked; the others were checked against their leaves.
  const tableEvents = Number((await q<{ n: number | string }>('select count(*) as n from events'))[0]!.n)
  return {
    ok: problems.length === 0,
    problems,
    warnings: f.warnings,
    stats: {
      segments: segments.length,
      archivedEvents,
      tableEvents,
      checkpoints: validCheckpoints.size,
      firstSeq,
      lastSeq,
      ...(log ? { log: { leaves: log.leaves, tiles: log.tiles, checkpoints: log.checkpoints } } : {}),
    },
  }
}

/** Phase 1, checkpoints: the table against the server's file copy, then every signature. */
async function checkCheckpoints(q: Query, opts: VerifyOptions, f: Findings): Promise<Map<number, Checkpoint>> {
  const { add, warnings } = f
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
  const chained = Number((await q<{ seq: number | string }>('select seq from ledger_head where id = 1'))[0]?.seq ?? 0) > 0
  if (!validCheckpoints.size && chained) warnings.push('no valid signed checkpoint: only the hash links are checked, and a consistently re-hashed chain would pass')

  return validCheckpoints
}

/** Phase 2, archives: each segment recorded in the database against its file and sidecar. */
async function checkArchives(q: Query, opts: VerifyOptions, f: Findings): Promise<{ segments: Segment[]; archivedEvents: number }> {
  const { add, warnings } = f
  const records = (await q<SegmentRecord & { first_seq: number | string; last_seq: number | string; first_leaf: number | string | null; last_leaf: number | string | null; archived_at: Date | string }>(
    'select first_seq, last_seq, event_count, file, sha256, anchor_hash, last_hash, first_leaf, last_leaf, archived_at from ledger_archives order by first_leaf nulls first, first_seq',
  )).map((r) => ({
    ...r,
    first_seq: Number(r.first_seq),
    last_seq: Number(r.last_seq),
    event_count: Number(r.event_count),
    first_leaf: r.first_leaf === null ? null : Number(r.first_leaf),
    last_leaf: r.last_leaf === null ? null : Number(r.last_leaf),
  }))
  const segments: Segment[] = []
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
    } else if (isLeafSegment(record) && (seg.events[0]!.leaf_index !== record.first_leaf || seg.events.at(-1)!.leaf_index !== record.last_leaf)) {
      add({ kind: 'archive', seq: record.first_seq, message: `archive segment ${record.file} does not hold leaves ${record.first_leaf}..${record.last_leaf}` })
    }
    archivedEvents += seg.events.length
    segments.push({ record, events: seg.events })
  }
  if (fs.existsSync(opts.archiveDir)) {
    const recorded = new Set(records.map((r) => r.file))
    for (const f of fs.readdirSync(opts.archiveDir)) {
      if (SEGMENT.test(f) && !recorded.has(f)) {
        warnings.push(`archive segment ${f} is not recorded in ledger_archives (left by an interrupted prune; its events are still in the table)`)
      }
    }
  }

  return { segments, archivedEvents }
}

/**
 * The archived copy of a pruned event, for the log phase: found by seq in a readable segment, or
 * `unreadable` when a segment that records it is missing (already reported), else undefined.
 */
function archivedLookup(segments: readonly Segment[]): ArchivedLookup {
  const bySeq = new Map<number, ArchivedEvent>()
  for (const s of segments) for (const e of s.events ?? []) bySeq.set(e.seq, e)
  const lost = segments.filter((s) => !s.events).map((s) => s.record)
  return (seq, leaf) =>
    bySeq.get(seq) ??
    (lost.some((r) => (isLeafSegment(r) ? leaf >= r.first_leaf! && leaf <= r.last_leaf! : seq >= r.first_seq && seq <= r.last_seq)) ? 'unreadable' : undefined)
}

/** The seqs of the events in readable segments, ascending. */
function archivedSeqs(segments: readonly Segment[]): Float64Array {
  const seqs = segments.flatMap((s) => (s.events ?? []).map((e) => e.seq))
  return Float64Array.from(seqs).sort()
}

/** Phase 4, the end of the chain: the ledger head and any checkpoint past it. */
async function checkEnd(q: Query, chain: ChainEnd, validCheckpoints: ReadonlyMap<number, Checkpoint>, f: Findings): Promise<void> {
  const { add } = f
  const { lastSeq, linkHash } = chain
  const head = (await q<{ seq: number | string; hash: string }>('select seq, hash from ledger_head where id = 1'))[0]
  const end = lastSeq ?? 0
  if (head) {
    const headSeq = Number(head.seq)
    if (headSeq > end) add({ kind: 'deleted', seq: end + 1, message: `event seq ${end + 1}..${headSeq} at the end of the chain was deleted (the ledger head is at seq ${headSeq})` })
    else if (end > 0 && head.hash !== linkHash) add({ kind: 'head', seq: end, message: `the ledger head's hash does not match the last event (seq ${end})` })
    // The server writes no chain fields after the head: such a row was written by something else.
    const past = (await q<{ seq: number | string; guid: string }>('select seq, guid from events where seq > $1 and (hash is not null or prev_hash is not null) order by seq limit 1', [headSeq]))[0]
    if (past) add({ kind: 'inserted', seq: Number(past.seq), guid: past.guid, message: `event seq ${Number(past.seq)} (guid ${past.guid}) carries chain hashes but was inserted after the ledger head (seq ${headSeq}), where the chain ended` })
  }
  const beyond = [...validCheckpoints.values()].filter((c) => c.seq > end)
  if (beyond.length) {
    const top = beyond.at(-1)!
    add({ kind: 'deleted', seq: end + 1, message: `event seq ${end + 1}..${top.seq} was deleted: a checkpoint signed ${top.signed_at} covers seq ${top.seq}, but the chain ends at seq ${end}` })
  }

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


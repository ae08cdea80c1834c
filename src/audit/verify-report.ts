// What `cf-ledger verify` reports, and what its phases (verify.ts, verify-walk.ts) pass along.
import type { ArchivedEvent, SegmentRecord } from './archive.ts'

export type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>

/** `tile`: the ledger log (docs/ledger.md) — a leaf, tile or log checkpoint that no longer matches. */
export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'duplicated' | 'checkpoint' | 'archive' | 'head' | 'tile'

export interface Problem {
  readonly kind: ProblemKind
  /** The seq the problem is pinned to (the first affected position); absent for global problems. */
  readonly seq?: number
  readonly guid?: string
  readonly message: string
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
    /** The ledger log: leaves checked against their entries, tiles, signed log checkpoints. */
    log?: { leaves: number; tiles: number; checkpoints: number }
  }
}

/** What the phases report into: problems (capped) and warnings. */
export interface Findings {
  readonly problems: Problem[]
  readonly warnings: string[]
  add(p: Problem): void
}

export interface Segment {
  readonly record: SegmentRecord
  /** Undefined when the file is missing or unreadable (already reported). */
  readonly events: ArchivedEvent[] | undefined
}

/** Where the walk ended: the next seq expected, the hash it must link to, what was read. */
export interface ChainEnd {
  readonly expectedSeq: number
  readonly linkHash: string
  readonly firstSeq: number | null
  readonly lastSeq: number | null
  readonly tableEvents: number
}

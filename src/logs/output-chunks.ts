// The in-memory side of a task's durable output: how chunks are packed for the database, and the
// writing state of one task (its chunk builder, sealed chunks waiting for the queue, counters).
import zlib from 'node:zlib'
import { ChunkBuilder } from './records.ts'

/**
 * Stored chunks are raw-deflated (level 1: ~1 ms per MiB; task output shrinks 5–20×) and sent as
 * base64 text decoded by the database: a large bytea parameter costs PGlite far more (~0.4 s per
 * MiB) than the same bytes as base64 text (docs/logs.md).
 */
export function packChunk(records: Buffer): string {
  return zlib.deflateRawSync(records, { level: 1 }).toString('base64')
}

export function unpackChunk(data: Uint8Array): Buffer {
  return zlib.inflateRawSync(data)
}

/** Chunk size: big enough for Loggregator's largest line, small enough to write often. */
export const CHUNK_BYTES = 1024 * 1024

export type TruncationReason = 'task_cap' | 'backpressure' | 'total_cap' | 'age' | 'store_error' | 'record_too_large'

export interface SealedChunk {
  readonly seq: number
  readonly data: Buffer
  readonly records: number
  readonly firstRecord: number
}

/** The writing state of one task's output. */
export class TaskOutputWriter {
  nextRecord = 0
  storedRecords = 0
  storedBytes = 0
  truncatedRecords = 0
  truncatedBytes = 0
  readonly reasons = new Set<TruncationReason>()
  seq = 0
  /** A record was skipped since the last stored one: the next stored record starts a new chunk. */
  gap = false
  finished = false
  readonly builder = new ChunkBuilder(CHUNK_BYTES)
  readonly pending: SealedChunk[] = []

  constructor(
    readonly taskGuid: string,
    readonly appGuid: string,
  ) {}
}

export interface FinalSummary {
  readonly outLines: number
  readonly errLines: number
  readonly bytes: number
  readonly sha256: string
  readonly droppedLines: number
}


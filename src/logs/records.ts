// The durable form of a task's output: records packed into chunks (task_output_chunks.data).
// A record is: u8 kind, i64 timestamp (ns, little-endian), u32 length, then the UTF-8 bytes.

/** Bit 0 of `kind`: 1 = ERR. Bits 1–2: what wrote the line. */
export const ERR = 1
/** The task's own stdout/stderr. */
export const SRC_TASK = 0 << 1
/** Diego-style lifecycle lines (`source_type` CELL). */
export const SRC_CELL = 1 << 1
/** Lines the platform writes under the task's source type: `Exit status N`, the rate-limit notice. */
export const SRC_PLATFORM = 2 << 1

export const HEADER_BYTES = 13

export interface OutputRecord {
  /** Position in the task's output, counting every record the pipeline saw (stored or not). */
  readonly index: number
  readonly kind: number
  readonly timestamp: bigint
  readonly text: string
}

export const isErr = (kind: number) => (kind & ERR) !== 0
export const sourceOf = (kind: number) => kind & 6

/** Fills one chunk buffer with records; `seal` copies out the used part. */
export class ChunkBuilder {
  private buf: Buffer
  used = 0
  records = 0
  firstRecord = -1

  constructor(readonly capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  /** Appends a record if it fits; returns its size in bytes, or -1 when the chunk is full. */
  append(index: number, kind: number, timestamp: bigint, text: string): number {
    const room = this.capacity - this.used - HEADER_BYTES
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    if (room < text.length * 3 && (room < 0 || Buffer.byteLength(text) > room)) return -1
    const at = this.used
    const n = this.buf.write(text, at + HEADER_BYTES, 'utf8')
    this.buf[at] = kind
    this.buf.writeBigInt64LE(timestamp, at + 1)
    this.buf.writeUInt32LE(n, at + 9)
    this.used = at + HEADER_BYTES + n
    if (this.records === 0) this.firstRecord = index
    this.records++
    return HEADER_BYTES + n
  }

  seal(): { data: Buffer; records: number; firstRecord: number } {
    const out = { data: Buffer.from(this.buf.subarray(0, this.used)), records: this.records, firstRecord: this.firstRecord }
    this.used = 0
    this.records = 0
    this.firstRecord = -1
    return out
  }

  /** The records not yet sealed, decoded (for readers of a running task). */
  peek(): OutputRecord[] {
    return this.records ? decodeChunk(this.buf.subarray(0, this.used), this.firstRecord) : []
  }
}

/** Decodes a chunk; a chunk holds a run of consecutive records starting at `firstRecord`. */
export function decodeChunk(data: Uint8Array, firstRecord: number): OutputRecord[] {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const out: OutputRecord[] = []
  let at = 0
  let i = 0
  while (at + HEADER_BYTES <= buf.length) {
    const kind = buf[at]!
    const timestamp = buf.readBigInt64LE(at + 1)
    const len = buf.readUInt32LE(at + 9)
    const text = buf.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + len)
    out.push({ index: firstRecord + i, kind, timestamp, text })
    at += HEADER_BYTES + len
    i++
  }
  return out
}

// Byte parameters for the embedded store, sent to PGlite as PostgreSQL wire-protocol messages.
// PGlite's own parameter path turns a byte array into hex text in JavaScript and allocates several
// copies per query; here a query with bytes is one Parse/Bind/Execute/Sync written into a buffer
// the worker reuses, the bytes in binary format, so a megabyte chunk costs no allocation at all.
// A byte parameter can also be a file range, which the worker reads straight into that buffer: a
// spooled upload then goes from disk to the database without passing through the main thread.
// Such queries return no rows, only the affected-row count (they are inserts and updates).
import fs from 'node:fs'

/** A parameter whose bytes are `length` bytes of `path` from `offset`. */
export interface FileRange {
  readonly $file: string
  readonly offset: number
  readonly length: number
}

export const isFileRange = (v: unknown): v is FileRange => typeof v === 'object' && v !== null && typeof (v as FileRange).$file === 'string'

/** True when a query must take the wire path: it has a byte or file-range parameter. */
export const hasByteParams = (params: readonly unknown[]) => params.some((p) => p instanceof Uint8Array || isFileRange(p))

/** PostgreSQL's text form of a non-byte parameter, or null for NULL. */
function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (v instanceof Date) return v.toISOString()
  return JSON.stringify(v)
}

export interface WireReply {
  affectedRows: number
  error?: { message: string; code?: string; detail?: string; constraint?: string }
}

/** Builds the messages for one query into a buffer that grows to the largest query and is then reused. */
export class WireQueryBuilder {
  private buf = Buffer.allocUnsafe(64 * 1024)

  build(sql: string, params: readonly unknown[]): Uint8Array {
    const values = params.map((p) => (p instanceof Uint8Array || isFileRange(p) ? p : textOf(p)))
    const sizeOf = (v: (typeof values)[number]) => (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length)
    const sqlBytes = Buffer.byteLength(sql)
    const parse = 1 + 4 + 1 + sqlBytes + 1 + 2
    const bind = 1 + 4 + 1 + 1 + 2 + 2 * values.length + 2 + values.reduce((n, v) => n + 4 + sizeOf(v), 0) + 2
    const total = parse + bind + (1 + 4 + 1 + 4) + (1 + 4)
    if (this.buf.length < total) this.buf = Buffer.allocUnsafe(Math.max(total, this.buf.length * 2))
    const b = this.buf
    let o = 0
    const message = (type: string, length: number) => {
      b[o++] = type.charCodeAt(0)
      o = b.writeInt32BE(length - 1, o) // the length counts itself, not the type byte
    }
    message('P', parse)
    b[o++] = 0 // unnamed statement
    o += b.write(sql, o, 'utf8')
    b[o++] = 0
    o = b.writeInt16BE(0, o) // parameter types inferred
    message('B', bind)
    b[o++] = 0 // unnamed portal
    b[o++] = 0
    o = b.writeInt16BE(values.length, o)
    for (const v of values) o = b.writeInt16BE(v === null || typeof v === 'string' ? 0 : 1, o)
    o = b.writeInt16BE(values.length, o)
    for (const v of values) {
      if (v === null) {
        o = b.writeInt32BE(-1, o)
      } else if (typeof v === 'string') {
        o = b.writeInt32BE(Buffer.byteLength(v), o)
        o += b.write(v, o, 'utf8')
      } else if (isFileRange(v)) {
        o = b.writeInt32BE(v.length, o)
        o += readRange(v, b.subarray(o, o + v.length))
      } else {
        o = b.writeInt32BE(v.length, o)
        b.set(v, o)
        o += v.length
      }
    }
    o = b.writeInt16BE(0, o) // results in text
    message('E', 1 + 4 + 1 + 4)
    b[o++] = 0
    o = b.writeInt32BE(0, o)
    message('S', 1 + 4)
    return b.subarray(0, o)
  }
}

function readRange(range: FileRange, into: Buffer): number {
  const fd = fs.openSync(range.$file, 'r')
  try {
    let filled = 0
    while (filled < into.length) {
      const n = fs.readSync(fd, into, filled, into.length - filled, range.offset + filled)
      if (n === 0) throw new Error(`${range.$file} ended before byte ${range.offset + range.length}`)
      filled += n
    }
    return filled
  } finally {
    fs.closeSync(fd)
  }
}

const ERROR_FIELDS: Record<string, 'message' | 'code' | 'detail' | 'constraint'> = { M: 'message', C: 'code', D: 'detail', n: 'constraint' }

/** Reads the backend's reply to one built query: the first error, else the command's row count. */
export function parseWireReply(data: Uint8Array): WireReply {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const reply: WireReply = { affectedRows: 0 }
  for (let o = 0; o + 5 <= b.length; ) {
    const type = String.fromCharCode(b[o]!)
    const end = o + 1 + b.readInt32BE(o + 1)
    if (type === 'C') {
      const tag = b.toString('utf8', o + 5, end - 1)
      reply.affectedRows = Number(/ (\d+)$/.exec(tag)?.[1] ?? 0)
    } else if (type === 'E' && !reply.error) {
      const error: NonNullable<WireReply['error']> = { message: 'unknown database error' }
      for (let f = o + 5; f < end && b[f] !== 0; ) {
        const zero = b.indexOf(0, f + 1)
        const key = ERROR_FIELDS[String.fromCharCode(b[f]!)]
        if (key) error[key] = b.toString('utf8', f + 1, zero)
        f = zero + 1
      }
      reply.error = error
    }
    o = end
  }
  return reply
}

// Splits a task's stdout/stderr byte stream into lines with nanosecond timestamps.
import type { Readable } from 'node:stream'

/** Loggregator's cap on one log message; longer lines are split into pieces of at most this size. */
export const MAX_LINE_BYTES = 64 * 1024

const hrtimeOrigin = process.hrtime.bigint()
const epochOriginNs = BigInt(Date.now()) * 1_000_000n

/** Nanoseconds since the epoch, from the monotonic clock anchored to the wall clock once. */
export function nowNs(): bigint {
  return epochOriginNs + (process.hrtime.bigint() - hrtimeOrigin)
}

/**
 * One clock per task, shared by its two streams: every line gets a timestamp strictly greater than
 * the previous one, so sorting by timestamp gives the order in which the lines were delivered.
 * Lines read in the same chunk get consecutive nanoseconds after the chunk's read time.
 */
export class TaskClock {
  private last = 0n

  /** Called once per chunk; returns the timestamp for the chunk's first line. */
  chunk(): bigint {
    const now = nowNs()
    if (now > this.last) this.last = now
    else this.last += 1n
    return this.last
  }

  /** The next timestamp within the current chunk. */
  next(): bigint {
    this.last += 1n
    return this.last
  }
}

export type LineSink = (text: string, timestampNs: bigint) => void

/** Largest end ≤ `limit` that does not cut a UTF-8 sequence in two (falls back to `limit`). */
function utf8Cut(buf: Buffer, start: number, limit: number): number {
  let cut = limit
  // Back up over at most 3 continuation bytes (10xxxxxx) so the cut starts a new character.
  for (let i = 0; i < 3 && cut > start; i++) {
    if ((buf[cut]! & 0xc0) !== 0x80) return cut
    cut--
  }
  return (buf[cut]! & 0xc0) !== 0x80 && cut > start ? cut : limit
}

/**
 * Splits on `\n` (the newline is not part of the line; `\r` is kept as is). A line longer than
 * `maxLineBytes` is delivered in pieces of at most that many bytes, cut on a UTF-8 character
 * boundary. A final line without a newline is delivered by `end()`. Empty lines are delivered.
 */
export class LineSplitter {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private first = true

  constructor(
    private readonly clock: TaskClock,
    private readonly sink: LineSink,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  private stamp(): bigint {
    if (this.first) {
      this.first = false
      return this.clock.chunk()
    }
    return this.clock.next()
  }

  /** Emits buf[start, end) as one or more lines of at most maxLineBytes. */
  private emit(buf: Buffer, start: number, end: number): void {
    while (end - start > this.maxLineBytes) {
      const cut = utf8Cut(buf, start, start + this.maxLineBytes)
      this.sink(buf.toString('utf8', start, cut), this.stamp())
      start = cut
    }
    this.sink(buf.toString('utf8', start, end), this.stamp())
  }

  push(chunk: Buffer): void {
    this.first = true
    let start = 0
    let nl = chunk.indexOf(10, 0)
    if (nl !== -1 && this.pendingBytes > 0) {
      this.pending.push(chunk.subarray(0, nl))
      const joined = Buffer.concat(this.pending, this.pendingBytes + nl)
      this.pending = []
      this.pendingBytes = 0
      this.emit(joined, 0, joined.length)
      start = nl + 1
      nl = chunk.indexOf(10, start)
    }
    while (nl !== -1) {
      this.emit(chunk, start, nl)
      start = nl + 1
      nl = chunk.indexOf(10, start)
    }
    if (start < chunk.length) {
      // Copy: the stream may reuse its buffers.
      const rest = Buffer.from(chunk.subarray(start))
      this.pending.push(rest)
      this.pendingBytes += rest.length
      if (this.pendingBytes > this.maxLineBytes) {
        const joined = Buffer.concat(this.pending, this.pendingBytes)
        let s = 0
        while (joined.length - s > this.maxLineBytes) {
          const cut = utf8Cut(joined, s, s + this.maxLineBytes)
          this.sink(joined.toString('utf8', s, cut), this.stamp())
          s = cut
        }
        const tail = joined.subarray(s)
        this.pending = tail.length ? [tail] : []
        this.pendingBytes = tail.length
      }
    }
  }

  /** Delivers the last line when the stream ended without a newline. */
  end(): void {
    if (this.pendingBytes === 0) return
    this.first = true
    const joined = Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    this.emit(joined, 0, joined.length)
  }
}

/**
 * Reads a child's pipe into a LineSplitter, but holds everything back until `release()`: the
 * stream stays paused (the child blocks once the pipe is full), and whatever Node pulls through
 * anyway after the child's exit is buffered here, not dropped.
 */
export class StreamCapture {
  private held: Buffer[] | null = []
  private endedEarly = false
  private resolveDone!: () => void
  /** Resolves once the stream has ended (last line delivered) or closed. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve))

  constructor(
    private readonly stream: Readable,
    private readonly splitter: LineSplitter,
  ) {
    stream.on('data', (c: Buffer) => {
      if (this.held) this.held.push(c)
      else splitter.push(c)
    })
    stream.once('end', () => {
      if (this.held) {
        this.endedEarly = true
        return
      }
      splitter.end()
      this.resolveDone()
    })
    stream.once('close', () => {
      if (!this.held) this.resolveDone()
    })
    stream.once('error', () => {
      if (!this.held) this.resolveDone()
    })
    stream.pause()
  }

  /** Delivers what was held and lets the stream flow. */
  release(): void {
    const held = this.held
    if (!held) return
    this.held = null
    for (const c of held) this.splitter.push(c)
    if (this.endedEarly) {
      this.splitter.end()
      this.resolveDone()
      return
    }
    if (this.stream.readableEnded || this.stream.destroyed) {
      this.resolveDone()
      return
    }
    this.stream.resume()
  }

  /** Stops reading; delivers a pending partial line. */
  abort(): void {
    this.release()
    this.splitter.end()
    this.stream.destroy()
    this.resolveDone()
  }
}

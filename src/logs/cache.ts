// log-cache's in-memory store, per source id: a ring of the newest `maxPerSource` envelopes in
// timestamp order. Reads are binary searches; everything is lost on restart, as in log-cache.
import type { Envelope } from './envelope.ts'

class SourceRing {
  private readonly buf: (Envelope | undefined)[]
  private start = 0
  size = 0
  expired = 0
  lastTimestamp = 0n

  constructor(private readonly capacity: number) {
    this.buf = new Array(capacity)
  }

  at(i: number): Envelope {
    return this.buf[(this.start + i) % this.capacity]!
  }

  push(e: Envelope): void {
    if (this.size < this.capacity) {
      this.buf[(this.start + this.size) % this.capacity] = e
      this.size++
    } else {
      this.buf[this.start] = e
      this.start = (this.start + 1) % this.capacity
      this.expired++
    }
    this.lastTimestamp = e.timestamp
  }

  /** First index whose timestamp is ≥ ts. */
  lowerBound(ts: bigint): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.at(mid).timestamp < ts) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export interface ReadOptions {
  /** Inclusive, ns. */
  readonly startTime?: bigint
  /** Exclusive, ns. */
  readonly endTime?: bigint
  readonly limit: number
  readonly descending: boolean
  /** Only log envelopes exist here; false means the caller asked for other types only. */
  readonly wantLogs: boolean
}

export interface SourceMeta {
  readonly count: number
  readonly expired: number
  readonly oldestTimestamp: bigint
  readonly newestTimestamp: bigint
}

export class LogCache {
  private readonly sources = new Map<string, SourceRing>()

  constructor(private readonly maxPerSource: number) {}

  /**
   * Stores `e`, first making its timestamp unique and increasing within its source: log-cache
   * nudges colliding timestamps by 1 ns so a client walking with `start_time = last + 1` misses
   * nothing; a line stamped earlier than one already stored is placed 1 ns after it.
   */
  push(e: Envelope): void {
    let ring = this.sources.get(e.sourceId)
    if (!ring) {
      ring = new SourceRing(this.maxPerSource)
      this.sources.set(e.sourceId, ring)
    }
    if (ring.size > 0 && e.timestamp <= ring.lastTimestamp) e.timestamp = ring.lastTimestamp + 1n
    ring.push(e)
  }

  read(sourceId: string, o: ReadOptions): Envelope[] {
    const ring = this.sources.get(sourceId)
    if (!ring || !o.wantLogs || ring.size === 0) return []
    const from = o.startTime === undefined ? 0 : ring.lowerBound(o.startTime)
    const to = o.endTime === undefined ? ring.size : ring.lowerBound(o.endTime)
    const out: Envelope[] = []
    if (o.descending) {
      for (let i = to - 1; i >= from && out.length < o.limit; i--) out.push(ring.at(i))
    } else {
      for (let i = from; i < to && out.length < o.limit; i++) out.push(ring.at(i))
    }
    return out
  }

  meta(): Map<string, SourceMeta> {
    const m = new Map<string, SourceMeta>()
    for (const [id, ring] of this.sources) {
      if (ring.size === 0) continue
      m.set(id, { count: ring.size, expired: ring.expired, oldestTimestamp: ring.at(0).timestamp, newestTimestamp: ring.at(ring.size - 1).timestamp })
    }
    return m
  }
}

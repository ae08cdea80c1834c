// The executor's log rate limiter (depot/log_streamer/log_rate_limiter.go): a token bucket of
// `limit` bytes refilled at `limit` bytes per second (golang.org/x/time/rate with burst = limit).
// A line longer than the limit never fits. The notice is sent once per run of dropped lines.

export class LogRateLimiter {
  private tokens: number
  private last: number
  /** True until the notice for the current run of dropped lines has been sent. */
  private needNotice = true

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = bytesPerSecond
    this.last = this.now()
  }

  /** -1 = unlimited (CF); 0 = "Not allowed to log". */
  get unlimited(): boolean {
    return this.bytesPerSecond < 0
  }

  /** Returns 'ok', 'drop' or 'drop+notice' (the caller writes the notice line). */
  take(bytes: number): 'ok' | 'drop' | 'drop+notice' {
    if (this.bytesPerSecond < 0) return 'ok'
    if (this.bytesPerSecond === 0) return 'drop'
    const t = this.now()
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond)
    this.last = t
    if (bytes <= this.tokens) {
      this.tokens -= bytes
      this.needNotice = true
      return 'ok'
    }
    if (this.needNotice) {
      this.needNotice = false
      return 'drop+notice'
    }
    return 'drop'
  }
}

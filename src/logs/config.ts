// Settings of the log pipeline (docs/logs.md). Read once from the environment by src/config.ts.

export interface LogConfig {
  /** Envelopes kept in memory per source id (log-cache's `max_per_source`). */
  readonly cacheMaxPerSource: number
  /** Stored output per task, bytes of records; past it the rest is counted, not stored. */
  readonly taskMaxBytes: number
  /** Stored output of all tasks, bytes; the oldest finished tasks' output goes first. */
  readonly totalMaxBytes: number
  /** Stored output older than this (by task finish time) is deleted; 0 keeps it forever. */
  readonly maxAgeSeconds: number
  /** How often the retention sweep runs. */
  readonly sweepSeconds: number
  /** Largest time a line waits in memory before it is written to the store. */
  readonly flushMs: number
  /** Output waiting to be written, all tasks together; past it lines are not stored (recorded). */
  readonly maxPendingBytes: number
  /** RLP-gateway stream heartbeat and time-out. */
  readonly streamHeartbeatSeconds: number
  readonly streamTimeoutSeconds: number
  /** Per-drain buffer: envelopes and payload bytes. Past either the oldest are dropped (counted). */
  readonly drainBufferLines: number
  readonly drainBufferBytes: number
  /** https-batch: flush at this many bytes or after this many milliseconds. */
  readonly drainBatchBytes: number
  readonly drainBatchMs: number
  /** Reconnect back-off cap. */
  readonly drainMaxBackoffMs: number
  /** CIDR ranges a drain may not connect to (comma list in the environment). */
  readonly drainBlockedRanges: readonly string[]
  /** Allow drains that point at this server's own listen address. */
  readonly drainAllowSelf: boolean
  /** Skip TLS certificate verification for syslog-tls and https drains (testing only). */
  readonly drainSkipCertVerify: boolean
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`)
  return n
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  if (/^(1|true|yes)$/i.test(v)) return true
  if (/^(0|false|no)$/i.test(v)) return false
  throw new Error(`${name} must be true or false, got '${v}'`)
}

const MiB = 1024 * 1024

export function loadLogConfig(env: NodeJS.ProcessEnv = process.env): LogConfig {
  const ranges = (env.CF_LEDGER_DRAIN_BLOCKED_RANGES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const r of ranges) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(r)) throw new Error(`CF_LEDGER_DRAIN_BLOCKED_RANGES: '${r}' is not a CIDR range`)
  }
  return {
    cacheMaxPerSource: Math.max(1, int(env, 'CF_LEDGER_LOG_CACHE_MAX_PER_SOURCE', 100_000)),
    taskMaxBytes: int(env, 'CF_LEDGER_LOG_TASK_MAX_BYTES', 256 * MiB),
    totalMaxBytes: int(env, 'CF_LEDGER_LOG_TOTAL_MAX_BYTES', 4096 * MiB),
    maxAgeSeconds: int(env, 'CF_LEDGER_LOG_MAX_AGE_SECONDS', 31 * 24 * 3600),
    sweepSeconds: Math.max(1, int(env, 'CF_LEDGER_LOG_SWEEP_SECONDS', 3600)),
    flushMs: Math.max(1, int(env, 'CF_LEDGER_LOG_FLUSH_MS', 200)),
    maxPendingBytes: int(env, 'CF_LEDGER_LOG_MAX_PENDING_BYTES', 256 * MiB),
    streamHeartbeatSeconds: Math.max(1, int(env, 'CF_LEDGER_LOG_STREAM_HEARTBEAT_SECONDS', 15)),
    streamTimeoutSeconds: Math.max(1, int(env, 'CF_LEDGER_LOG_STREAM_TIMEOUT_SECONDS', 14 * 60)),
    drainBufferLines: Math.max(1, int(env, 'CF_LEDGER_DRAIN_BUFFER_LINES', 1_000_000)),
    drainBufferBytes: Math.max(1, int(env, 'CF_LEDGER_DRAIN_BUFFER_BYTES', 256 * MiB)),
    drainBatchBytes: Math.max(1, int(env, 'CF_LEDGER_DRAIN_BATCH_BYTES', 512 * 1024)),
    drainBatchMs: Math.max(1, int(env, 'CF_LEDGER_DRAIN_BATCH_MS', 1000)),
    drainMaxBackoffMs: Math.max(1, int(env, 'CF_LEDGER_DRAIN_MAX_BACKOFF_MS', 15_000)),
    drainBlockedRanges: ranges,
    drainAllowSelf: bool(env, 'CF_LEDGER_DRAIN_ALLOW_SELF', false),
    drainSkipCertVerify: bool(env, 'CF_LEDGER_DRAIN_SKIP_CERT_VERIFY', false),
  }
}

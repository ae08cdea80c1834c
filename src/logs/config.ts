// Settings of the log pipeline (docs/logs.md), read through the settings table by src/config.ts.
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

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

export function loadLogConfig(env: Env = process.env): LogConfig {
  const get = reader(env)
  return {
    cacheMaxPerSource: get(S.logCacheMaxPerSource),
    taskMaxBytes: get(S.logTaskMaxBytes),
    totalMaxBytes: get(S.logTotalMaxBytes),
    maxAgeSeconds: get(S.logMaxAgeSeconds),
    sweepSeconds: get(S.logSweepSeconds),
    flushMs: get(S.logFlushMs),
    maxPendingBytes: get(S.logMaxPendingBytes),
    streamHeartbeatSeconds: get(S.logStreamHeartbeatSeconds),
    streamTimeoutSeconds: get(S.logStreamTimeoutSeconds),
    drainBufferLines: get(S.drainBufferLines),
    drainBufferBytes: get(S.drainBufferBytes),
    drainBatchBytes: get(S.drainBatchBytes),
    drainBatchMs: get(S.drainBatchMs),
    drainMaxBackoffMs: get(S.drainMaxBackoffMs),
    drainBlockedRanges: get(S.drainBlockedRanges),
    drainAllowSelf: get(S.drainAllowSelf),
    drainSkipCertVerify: get(S.drainSkipCertVerify),
  }
}

// Configuration of the ledger's background work: signed checkpoints and retention pruning with
// archives (docs/audit-events.md). Read from the environment; see the README's table.

export interface AuditConfig {
  /** Ed25519 private key (PKCS#8 PEM, or a path to one); default: generated in the data directory. */
  readonly checkpointKey: string | undefined
  /** Seconds between signed checkpoints; 0 signs only at start and at a clean stop. */
  readonly checkpointIntervalSeconds: number
  /** Events older than this many days are archived and pruned (CC's cutoff_age_in_days). */
  readonly eventsCutoffDays: number
  /** Daily prune time, HH:MM in UTC (CC's clock runs it at 20:00); undefined = no scheduled pruning. */
  readonly pruneAt: string | undefined
  /** When > 0, prune at start and then every this many seconds instead of daily. */
  readonly pruneIntervalSeconds: number
  /** Events per archive segment and per delete transaction (CC deletes 1000 per batch). */
  readonly pruneBatchSize: number
  /** Where archive segments go; default <data-dir>/archive. */
  readonly archiveDir: string | undefined
  /** Test-only fault injection (`prune-after-archive`, `prune-after-delete`): the process kills itself there. */
  readonly fault: string | undefined
}

function nonNegativeInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${value}'`)
  return n
}

export function loadAuditConfig(env: NodeJS.ProcessEnv): AuditConfig {
  const pruneAtRaw = env.CF_LEDGER_PRUNE_AT || '20:00'
  let pruneAt: string | undefined
  if (!/^off$/i.test(pruneAtRaw)) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(pruneAtRaw)
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`CF_LEDGER_PRUNE_AT must be HH:MM (UTC) or off, got '${pruneAtRaw}'`)
    pruneAt = `${m[1]!.padStart(2, '0')}:${m[2]}`
  }
  const pruneBatchSize = nonNegativeInt(env.CF_LEDGER_PRUNE_BATCH_SIZE, 1000, 'CF_LEDGER_PRUNE_BATCH_SIZE')
  if (pruneBatchSize < 1) throw new Error('CF_LEDGER_PRUNE_BATCH_SIZE must be at least 1')
  return {
    checkpointKey: env.CF_LEDGER_CHECKPOINT_KEY || undefined,
    checkpointIntervalSeconds: nonNegativeInt(env.CF_LEDGER_CHECKPOINT_INTERVAL, 300, 'CF_LEDGER_CHECKPOINT_INTERVAL'),
    eventsCutoffDays: nonNegativeInt(env.CF_LEDGER_EVENTS_CUTOFF_DAYS, 31, 'CF_LEDGER_EVENTS_CUTOFF_DAYS'),
    pruneAt,
    pruneIntervalSeconds: nonNegativeInt(env.CF_LEDGER_PRUNE_INTERVAL, 0, 'CF_LEDGER_PRUNE_INTERVAL'),
    pruneBatchSize,
    archiveDir: env.CF_LEDGER_ARCHIVE_DIR || undefined,
    fault: env.CF_LEDGER_FAULT || undefined,
  }
}

// Configuration of the ledger's background work: signed checkpoints and retention pruning with
// archives (docs/audit-events.md), read through the settings table (settings/table.ts).
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

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

export function loadAuditConfig(env: Env): AuditConfig {
  const get = reader(env)
  return {
    checkpointKey: get(S.checkpointKey),
    checkpointIntervalSeconds: get(S.checkpointInterval),
    eventsCutoffDays: get(S.eventsCutoffDays),
    pruneAt: get(S.pruneAt),
    pruneIntervalSeconds: get(S.pruneInterval),
    pruneBatchSize: get(S.pruneBatchSize),
    archiveDir: get(S.archiveDir),
    fault: get(S.fault),
  }
}

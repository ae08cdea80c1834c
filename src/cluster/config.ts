// Settings for running many servers on one database (docs/cluster.md). Read once by src/config.ts.
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'

export interface ClusterConfig {
  /** This server's stable name across restarts (default: from the host name and data directory). */
  readonly nodeId: string
  /**
   * Lease of a claimed task, job or role, in ms: a server that stops renewing is considered dead
   * after this long, and its work is recovered by the next sweep (detection time ≈ lease + sweep).
   */
  readonly leaseMs: number
  /** How often a server looks for claimable tasks without a notification (a fallback). */
  readonly pollMs: number
  /** On SIGTERM, how long running tasks may go on before they are killed (0 = at once). */
  readonly drainSeconds: number
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`)
  return n
}

export function defaultNodeId(dataDir: string): string {
  return crypto.createHash('sha256').update(`${os.hostname()}\0${path.resolve(dataDir)}`).digest('hex').slice(0, 12)
}

export function loadClusterConfig(env: NodeJS.ProcessEnv, dataDir: string): ClusterConfig {
  const nodeId = env.CF_LEDGER_NODE_ID || defaultNodeId(dataDir)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new Error(`CF_LEDGER_NODE_ID must be 1-64 letters, digits, '.', '_' or '-', got '${nodeId}'`)
  return {
    nodeId,
    leaseMs: int(env, 'CF_LEDGER_LEASE_MS', 5000, 200),
    pollMs: int(env, 'CF_LEDGER_CLAIM_POLL_MS', 2000, 50),
    drainSeconds: int(env, 'CF_LEDGER_TASK_DRAIN_SECONDS', 0, 0),
  }
}

/** One server process: its node and a fresh instance id, so a restart is told apart from its predecessor. */
export interface Instance {
  readonly nodeId: string
  /** `<nodeId>:<random>`; the owner written on claimed rows. */
  readonly id: string
}

export function newInstance(nodeId: string): Instance {
  return { nodeId, id: `${nodeId}:${crypto.randomBytes(4).toString('hex')}` }
}

// Settings for running many servers on one database (docs/cluster.md), read through the settings
// table by src/config.ts.
import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

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

export function defaultNodeId(dataDir: string): string {
  return crypto.createHash('sha256').update(`${os.hostname()}\0${path.resolve(dataDir)}`).digest('hex').slice(0, 12)
}

export function loadClusterConfig(env: Env, dataDir: string): ClusterConfig {
  const get = reader(env)
  return {
    nodeId: get(S.nodeId) ?? defaultNodeId(dataDir),
    leaseMs: get(S.leaseMs),
    pollMs: get(S.claimPollMs),
    drainSeconds: get(S.taskDrainSeconds),
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

import path from 'node:path'
import { loadAuditConfig, type AuditConfig } from './audit/config.ts'
import { loadLogConfig, type LogConfig } from './logs/config.ts'
import { loadAuditSyslogConfig, type AuditSyslogConfig } from './export/config.ts'
import { loadLedgerConfig, type LedgerConfig } from './ledger/config.ts'
import { loadClusterConfig, type ClusterConfig } from './cluster/config.ts'
import { loadCollectConfig, type CollectConfig } from './collect/config.ts'
import { type Env, reader } from './settings/read.ts'
import { S } from './settings/table.ts'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  /** How long start-up waits for PostgreSQL to accept connections before giving up, seconds. */
  readonly databaseWaitSeconds: number
  readonly databasePreparedStatements: boolean
  /** The embedded store's shared_buffers (PostgreSQL units: 16MB, 128MB); most of its resident memory. */
  readonly embeddedSharedBuffers: string
  readonly publicUrl: string | undefined
  readonly adminPassword: string | undefined
  readonly accessTokenTtlSeconds: number
  readonly clientTokenTtlSeconds: number
  readonly refreshTokenTtlSeconds: number
  readonly logLevel: string
  /** Key for command fingerprints (hex or base64, ≥ 32 bytes); unset = generated once and kept in the store. */
  readonly fingerprintKey: string | undefined
  /** CC's maximum_app_disk_in_mb: the largest disk_in_mb a task may ask for. */
  readonly maxTaskDiskInMb: number
  /** Largest package zip accepted by `POST /v3/packages/:guid/upload`, bytes. */
  readonly maxPackageBytes: number
  /** Largest total size of a package's files once unzipped, bytes (CC's `max_package_size`). */
  readonly maxUnzippedBytes: number
  /** Most entries (files, directories, symlinks) a package zip may hold. */
  readonly maxZipEntries: number
  /** Highest uncompressed:compressed ratio allowed for an entry larger than 1 MiB. */
  readonly maxCompressionRatio: number
  /** Task output, log-cache and syslog drains (docs/logs.md). */
  readonly logs: LogConfig
  /** The audit-event syslog forwarder (docs/export.md); undefined when off (the default). */
  readonly auditSyslog: AuditSyslogConfig | undefined
  /** Tasks running at once; more wait in PENDING, in order. */
  readonly taskConcurrency: number
  /** Wall-clock limit per task in seconds; 0 = none (as CF). */
  readonly taskMaxRunSeconds: number
  /** Maximum processes per task (pids cgroup). */
  readonly taskPidLimit: number
  /** Where per-task working copies go; undefined = `<dataDir>/tasks` (or a temp dir if the task user cannot reach it). */
  readonly taskWorkDir: string | undefined
  /** Whether tasks get the host's network. */
  readonly taskNetwork: boolean
  /** Cancel: SIGTERM, then SIGKILL after this many milliseconds. */
  readonly taskCancelGraceMs: number
  /** The user tasks run as when the server is root; undefined = cf-ledger-task (created if missing). */
  readonly taskUser: string | undefined
  /** auto = bubblewrap when it works on this host; bwrap = required; none = plain processes. */
  readonly taskSandbox: 'auto' | 'bwrap' | 'none'
  /** Who may read /metrics: admin (default), public or off. */
  readonly metricsAccess: 'admin' | 'public' | 'off'
  /** A fixed bearer secret that may read /metrics (for scrapers without a UAA client). */
  readonly metricsToken: string | undefined
  /** Signed checkpoints and retention pruning with archives (src/audit/config.ts). */
  readonly audit: AuditConfig
  /** The verifiable ledger: integrator, log key, checkpoints, witnesses (src/ledger/config.ts). */
  readonly ledger: LedgerConfig
  /** Many servers on one database: node id, lease (dead-server detection), claim poll, drain (docs/cluster.md). */
  readonly cluster: ClusterConfig
  /** Foundations to collect from (docs/collect.md); undefined when off (the default). */
  readonly collect: CollectConfig | undefined
}

export interface ConfigInput {
  host?: string
  port?: string | number
  dataDir?: string
  publicUrl?: string
  collect?: string
}

/** Flags win over environment variables, which win over defaults (the table in settings/table.ts). */
export function loadConfig(flags: ConfigInput, env: Env = process.env): Config {
  const get = reader(env)
  const dataDir = path.resolve(get(S.dataDir, flags.dataDir))
  return {
    host: get(S.host, flags.host),
    port: get(S.port, flags.port),
    dataDir,
    databaseUrl: get(S.databaseUrl),
    databaseWaitSeconds: get(S.databaseWaitSeconds),
    databasePreparedStatements: get(S.databasePreparedStatements),
    embeddedSharedBuffers: get(S.embeddedSharedBuffers),
    publicUrl: get(S.publicUrl, flags.publicUrl),
    adminPassword: get(S.adminPassword),
    accessTokenTtlSeconds: get(S.accessTokenTtl),
    clientTokenTtlSeconds: get(S.clientTokenTtl),
    refreshTokenTtlSeconds: get(S.refreshTokenTtl),
    logLevel: get(S.logLevel),
    fingerprintKey: get(S.fingerprintKey),
    maxTaskDiskInMb: get(S.maxTaskDiskMb),
    maxPackageBytes: get(S.maxPackageBytes),
    maxUnzippedBytes: get(S.maxUnzippedBytes),
    maxZipEntries: get(S.maxZipEntries),
    maxCompressionRatio: get(S.maxCompressionRatio),
    metricsAccess: get(S.metricsAccess),
    metricsToken: get(S.metricsToken),
    logs: loadLogConfig(env),
    auditSyslog: loadAuditSyslogConfig(env),
    audit: loadAuditConfig(env),
    cluster: loadClusterConfig(env, dataDir),
    collect: loadCollectConfig(env, flags.collect),
    taskConcurrency: get(S.taskConcurrency),
    taskMaxRunSeconds: get(S.taskMaxRunSeconds),
    taskPidLimit: get(S.taskPidLimit),
    taskWorkDir: maybeResolve(get(S.taskWorkDir)),
    taskNetwork: get(S.taskNetwork),
    taskCancelGraceMs: get(S.taskCancelGraceMs),
    taskUser: get(S.taskUser),
    taskSandbox: get(S.taskSandbox),
    ledger: loadLedgerConfig(env),
  }
}

function maybeResolve(p: string | undefined): string | undefined {
  return p === undefined ? undefined : path.resolve(p)
}

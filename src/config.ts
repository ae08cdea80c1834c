import path from 'node:path'
import { loadAuditConfig, type AuditConfig } from './audit/config.ts'
import { loadLogConfig, type LogConfig } from './logs/config.ts'
import { loadAuditSyslogConfig, type AuditSyslogConfig } from './export/config.ts'
import { loadLedgerConfig, type LedgerConfig } from './ledger/config.ts'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly databaseUrl: string | undefined
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
  /** Signed checkpoints and retention pruning with archives (src/audit/config.ts). */
  readonly audit: AuditConfig
  /** The verifiable ledger: integrator, log key, checkpoints, witnesses (src/ledger/config.ts). */
  readonly ledger: LedgerConfig
}

export interface ConfigInput {
  host?: string
  port?: string | number
  dataDir?: string
  publicUrl?: string
}

function intFrom(value: string | number | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${value}'`)
  return n
}

function boolFrom(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined || value === '') return fallback
  if (/^(1|true|yes|on)$/i.test(value)) return true
  if (/^(0|false|no|off)$/i.test(value)) return false
  throw new Error(`${name} must be true or false, got '${value}'`)
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(flags: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const port = intFrom(flags.port ?? env.CF_LEDGER_PORT, 8080, '--port / CF_LEDGER_PORT')
  if (port > 65535) throw new Error(`--port / CF_LEDGER_PORT must be at most 65535, got ${port}`)
  const publicUrl = flags.publicUrl ?? env.CF_LEDGER_PUBLIC_URL
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+$/.test(publicUrl.replace(/\/$/, ''))) {
    throw new Error(`--public-url / CF_LEDGER_PUBLIC_URL must be an origin like https://api.example.com, got '${publicUrl}'`)
  }
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(`DATABASE_URL must start with postgres://, got '${databaseUrl.replace(/:[^:@/]*@/, ':***@')}'`)
  }
  return {
    host: flags.host ?? env.CF_LEDGER_HOST ?? '127.0.0.1',
    port,
    dataDir: path.resolve(flags.dataDir ?? env.CF_LEDGER_DATA_DIR ?? '.cf-ledger'),
    databaseUrl,
    publicUrl: publicUrl?.replace(/\/$/, ''),
    adminPassword: env.CF_LEDGER_ADMIN_PASSWORD || undefined,
    accessTokenTtlSeconds: intFrom(env.CF_LEDGER_ACCESS_TOKEN_TTL, 1200, 'CF_LEDGER_ACCESS_TOKEN_TTL'),
    clientTokenTtlSeconds: intFrom(env.CF_LEDGER_CLIENT_TOKEN_TTL, 43200, 'CF_LEDGER_CLIENT_TOKEN_TTL'),
    refreshTokenTtlSeconds: intFrom(env.CF_LEDGER_REFRESH_TOKEN_TTL, 2592000, 'CF_LEDGER_REFRESH_TOKEN_TTL'),
    logLevel: env.CF_LEDGER_LOG_LEVEL ?? 'warn',
    fingerprintKey: env.CF_LEDGER_FINGERPRINT_KEY || undefined,
    maxTaskDiskInMb: intFrom(env.CF_LEDGER_MAX_TASK_DISK_MB, 2048, 'CF_LEDGER_MAX_TASK_DISK_MB'),
    maxPackageBytes: intFrom(env.CF_LEDGER_MAX_PACKAGE_BYTES, 256 * 1024 * 1024, 'CF_LEDGER_MAX_PACKAGE_BYTES'),
    maxUnzippedBytes: intFrom(env.CF_LEDGER_MAX_UNZIPPED_BYTES, 1024 * 1024 * 1024, 'CF_LEDGER_MAX_UNZIPPED_BYTES'),
    maxZipEntries: intFrom(env.CF_LEDGER_MAX_ZIP_ENTRIES, 100_000, 'CF_LEDGER_MAX_ZIP_ENTRIES'),
    maxCompressionRatio: intFrom(env.CF_LEDGER_MAX_COMPRESSION_RATIO, 200, 'CF_LEDGER_MAX_COMPRESSION_RATIO'),
    logs: loadLogConfig(env),
    auditSyslog: loadAuditSyslogConfig(env),
    audit: loadAuditConfig(env),
    ledger: loadLedgerConfig(env),
    ...taskConfig(env),
  }
}

function taskConfig(env: NodeJS.ProcessEnv): Pick<
  Config,
  'taskConcurrency' | 'taskMaxRunSeconds' | 'taskPidLimit' | 'taskWorkDir' | 'taskNetwork' | 'taskCancelGraceMs' | 'taskUser' | 'taskSandbox'
> {
  const taskConcurrency = intFrom(env.CF_LEDGER_TASK_CONCURRENCY, 4, 'CF_LEDGER_TASK_CONCURRENCY')
  if (taskConcurrency < 1) throw new Error('CF_LEDGER_TASK_CONCURRENCY must be at least 1')
  const taskSandbox = env.CF_LEDGER_TASK_SANDBOX || 'auto'
  if (taskSandbox !== 'auto' && taskSandbox !== 'bwrap' && taskSandbox !== 'none') {
    throw new Error(`CF_LEDGER_TASK_SANDBOX must be auto, bwrap or none, got '${taskSandbox}'`)
  }
  return {
    taskConcurrency,
    taskMaxRunSeconds: intFrom(env.CF_LEDGER_TASK_MAX_RUN_SECONDS, 0, 'CF_LEDGER_TASK_MAX_RUN_SECONDS'),
    taskPidLimit: intFrom(env.CF_LEDGER_TASK_PID_LIMIT, 1024, 'CF_LEDGER_TASK_PID_LIMIT'),
    taskWorkDir: env.CF_LEDGER_TASK_WORK_DIR ? path.resolve(env.CF_LEDGER_TASK_WORK_DIR) : undefined,
    taskNetwork: boolFrom(env.CF_LEDGER_TASK_NETWORK, true, 'CF_LEDGER_TASK_NETWORK'),
    taskCancelGraceMs: intFrom(env.CF_LEDGER_TASK_CANCEL_GRACE_MS, 10000, 'CF_LEDGER_TASK_CANCEL_GRACE_MS'),
    taskUser: env.CF_LEDGER_TASK_USER || undefined,
    taskSandbox,
  }
}

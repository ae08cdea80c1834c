// Every setting the server and the CLI read, in one table: its environment variable (and flag),
// parser, default and a one-line doc. Module loaders read their entries through `settings/read.ts`;
// `serve --help` and the README's table are generated from here (`npm run settings-doc`).
import { type Parser, boolean, duration, integer, list, matching, oneOf, text } from './parse.ts'

export type Group = 'server' | 'auth' | 'bits' | 'tasks' | 'cluster' | 'logs' | 'drains' | 'audit' | 'export' | 'collect' | 'cli'

export interface Setting<T> {
  readonly env: string
  /** The `serve` flag that overrides the variable, e.g. `--port <port>`. */
  readonly flag?: string
  readonly parser: Parser<T>
  /** The value when the variable is unset or empty. */
  readonly default: T
  /** How the default reads in the docs, when it is not the value itself (`random`, `DATA_DIR/tasks`). */
  readonly defaultDoc?: string
  /** One line, Markdown allowed (links, `code`). */
  readonly doc: string
  readonly group: Group
  /** Only for tests (fault injection, TLS shortcuts): refused when NODE_ENV=production. */
  readonly testOnly?: true
}

/** The parser alone decides the type (`default` must fit it). */
function setting<T>(s: Omit<Setting<T>, 'default'> & { readonly default: NoInfer<T> }): Setting<T> {
  return s
}

const MiB = 1024 * 1024
const optionalText = text as Parser<string | undefined>

/** `postgres://…`; the message never shows the password. */
const databaseUrl: Parser<string | undefined> = {
  kind: 'postgres:// URL',
  parse(raw, name) {
    if (!/^postgres(ql)?:\/\//.test(raw)) throw new Error(`${name} must start with postgres://, got '${raw.replace(/:[^:@/]*@/, ':***@')}'`)
    return raw
  },
}

const origin: Parser<string | undefined> = {
  kind: 'origin',
  parse(raw, name) {
    if (!/^https?:\/\/[^/]+$/.test(raw.replace(/\/$/, ''))) throw new Error(`${name} must be an origin like https://api.example.com, got '${raw}'`)
    return raw.replace(/\/$/, '')
  },
}

/** HH:MM (UTC) normalised to two-digit hours, or `off` (undefined). */
const timeOfDay: Parser<string | undefined> = {
  kind: 'HH:MM | off',
  parse(raw, name) {
    if (/^off$/i.test(raw)) return undefined
    const m = /^(\d{1,2}):(\d{2})$/.exec(raw)
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`${name} must be HH:MM (UTC) or off, got '${raw}'`)
    return `${m[1]!.padStart(2, '0')}:${m[2]}`
  },
}

const cidr = matching(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'a comma list of CIDR ranges', 'CIDR')

export const S = {
  // ---- server
  port: setting({ env: 'CF_LEDGER_PORT', flag: '--port <port>', parser: integer({ max: 65535 }), default: 8080, doc: 'port to listen on; `0` picks a free port (printed)', group: 'server' }),
  host: setting({ env: 'CF_LEDGER_HOST', flag: '--host <host>', parser: text, default: '127.0.0.1', doc: 'address to bind', group: 'server' }),
  dataDir: setting({ env: 'CF_LEDGER_DATA_DIR', flag: '--data-dir <dir>', parser: text, default: '.cf-ledger', defaultDoc: '`./.cf-ledger`', doc: 'embedded database, archives and keys', group: 'server' }),
  publicUrl: setting({ env: 'CF_LEDGER_PUBLIC_URL', flag: '--public-url <url>', parser: origin, default: undefined, defaultDoc: '`http://HOST:PORT` of the request', doc: 'origin used in links (`https://api.example.com`)', group: 'server' }),
  databaseUrl: setting({ env: 'DATABASE_URL', parser: databaseUrl, default: undefined, defaultDoc: 'unset', doc: '`postgres://…` uses a PostgreSQL server instead of the embedded store', group: 'server' }),
  embeddedSharedBuffers: setting({ env: 'CF_LEDGER_EMBEDDED_SHARED_BUFFERS', parser: matching(/^\d+(kB|MB|GB)$/, 'a size like 16MB or 1GB'), default: '8MB', doc: "the embedded store's `shared_buffers`, most of its resident memory (docs/operations.md)", group: 'server' }),
  databasePreparedStatements: setting({ env: 'CF_LEDGER_DATABASE_PREPARED_STATEMENTS', parser: boolean, default: true, doc: 'run frequent PostgreSQL queries as named prepared statements; `false` behind a connection pooler that cannot keep them (PgBouncer before 1.21 in transaction mode)', group: 'server' }),
  databaseWaitSeconds: setting({ env: 'CF_LEDGER_DATABASE_WAIT_SECONDS', parser: duration('s'), default: 30, doc: 'how long start-up waits for an unreachable PostgreSQL before it gives up, seconds', group: 'server' }),
  logLevel: setting({ env: 'CF_LEDGER_LOG_LEVEL', parser: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'warn', doc: 'server log level (pino)', group: 'server' }),
  metricsAccess: setting({ env: 'CF_LEDGER_METRICS', parser: oneOf(['admin', 'public', 'off']), default: 'admin', doc: 'who may read `/metrics`: `admin` (admin, admin read-only or global auditor tokens, or `CF_LEDGER_METRICS_TOKEN`), `public` or `off`', group: 'server' }),
  metricsToken: setting({ env: 'CF_LEDGER_METRICS_TOKEN', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: 'bearer token a Prometheus scraper may send to `/metrics` instead of an admin token', group: 'server' }),
  nodeEnv: setting({ env: 'NODE_ENV', parser: text, default: '', defaultDoc: 'unset', doc: '`production` refuses the test-only settings', group: 'server' }),
  // ---- auth
  adminPassword: setting({ env: 'CF_LEDGER_ADMIN_PASSWORD', parser: optionalText, default: undefined, defaultDoc: 'random', doc: 'password for `admin` when the store is first created', group: 'auth' }),
  accessTokenTtl: setting({ env: 'CF_LEDGER_ACCESS_TOKEN_TTL', parser: duration('s'), default: 1200, doc: 'user access-token lifetime, seconds', group: 'auth' }),
  clientTokenTtl: setting({ env: 'CF_LEDGER_CLIENT_TOKEN_TTL', parser: duration('s'), default: 43200, doc: 'client-credentials token lifetime, seconds', group: 'auth' }),
  refreshTokenTtl: setting({ env: 'CF_LEDGER_REFRESH_TOKEN_TTL', parser: duration('s'), default: 2592000, doc: 'refresh-token lifetime, seconds', group: 'auth' }),
  // ---- bits
  maxPackageBytes: setting({ env: 'CF_LEDGER_MAX_PACKAGE_BYTES', parser: integer(), default: 256 * MiB, defaultDoc: '`268435456` (256 MiB)', doc: 'largest package zip `cf push` may upload', group: 'bits' }),
  maxUnzippedBytes: setting({ env: 'CF_LEDGER_MAX_UNZIPPED_BYTES', parser: integer(), default: 1024 * MiB, defaultDoc: '`1073741824` (1 GiB)', doc: "largest total size of a package's files once unzipped", group: 'bits' }),
  maxZipEntries: setting({ env: 'CF_LEDGER_MAX_ZIP_ENTRIES', parser: integer(), default: 100_000, doc: 'most files, directories and symlinks in a package', group: 'bits' }),
  maxCompressionRatio: setting({ env: 'CF_LEDGER_MAX_COMPRESSION_RATIO', parser: integer(), default: 200, doc: 'highest uncompressed:compressed ratio of a package file over 1 MiB', group: 'bits' }),
  // ---- the verifiable ledger (docs/ledger.md)
  logOrigin: setting({ env: 'CF_LEDGER_LOG_ORIGIN', parser: optionalText, default: undefined, defaultDoc: '`cf-ledger/<host of --public-url>` (or `cf-ledger/local`)', doc: "the ledger log's checkpoint origin and key name ([docs/ledger.md](docs/ledger.md))", group: 'audit' }),
  logKey: setting({ env: 'CF_LEDGER_LOG_KEY', parser: optionalText, default: undefined, defaultDoc: 'generated once for the cluster, kept in the store', doc: "the ledger log's signer key, `PRIVATE+KEY+<origin>+<id>+<key>` (Go sumdb/note form)", group: 'audit' }),
  integrateInterval: setting({ env: 'CF_LEDGER_INTEGRATE_INTERVAL_MS', parser: integer({ min: 10 }), default: 100, doc: 'milliseconds between integrator passes (committed events become leaves)', group: 'audit' }),
  logCheckpointInterval: setting({ env: 'CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS', parser: integer({ min: 10 }), default: 1000, doc: 'at most one signed log checkpoint per this many milliseconds, and only when new leaves exist', group: 'audit' }),
  witnesses: setting({ env: 'CF_LEDGER_WITNESSES', parser: optionalText, default: undefined, defaultDoc: 'none', doc: 'witnesses to push every checkpoint to: space-separated `<witness vkey>=<submission URL>`', group: 'audit' }),
  // ---- tasks
  taskConcurrency: setting({ env: 'CF_LEDGER_TASK_CONCURRENCY', parser: integer({ min: 1 }), default: 4, doc: 'tasks running at once; more wait in `PENDING`, in order ([docs/executor.md](docs/executor.md))', group: 'tasks' }),
  maxTaskDiskMb: setting({ env: 'CF_LEDGER_MAX_TASK_DISK_MB', parser: integer(), default: 2048, doc: "largest `disk_in_mb` a task may ask for (CC's `maximum_app_disk_in_mb`)", group: 'tasks' }),
  fingerprintKey: setting({ env: 'CF_LEDGER_FINGERPRINT_KEY', parser: optionalText, default: undefined, defaultDoc: 'generated once, kept in the store', doc: 'key (≥ 32 bytes, hex or base64) for task command fingerprints, HMAC-SHA256 ([docs/task-trail.md](docs/task-trail.md))', group: 'tasks' }),
  taskMaxRunSeconds: setting({ env: 'CF_LEDGER_TASK_MAX_RUN_SECONDS', parser: duration('s'), default: 0, defaultDoc: '`0` (none, as CF)', doc: 'wall-clock limit per task; then SIGTERM, grace, SIGKILL', group: 'tasks' }),
  taskPidLimit: setting({ env: 'CF_LEDGER_TASK_PID_LIMIT', parser: integer(), default: 1024, doc: 'processes/threads per task (pids cgroup)', group: 'tasks' }),
  taskWorkDir: setting({ env: 'CF_LEDGER_TASK_WORK_DIR', parser: optionalText, default: undefined, defaultDoc: '`DATA_DIR/tasks` (a temp dir if the task user cannot reach it)', doc: 'per-task working copies of the droplet', group: 'tasks' }),
  taskNetwork: setting({ env: 'CF_LEDGER_TASK_NETWORK', parser: boolean, default: true, doc: 'give tasks the host network; `false` = private loopback only (needs the sandbox)', group: 'tasks' }),
  taskCancelGraceMs: setting({ env: 'CF_LEDGER_TASK_CANCEL_GRACE_MS', parser: duration('ms'), default: 10000, doc: 'SIGTERM → SIGKILL grace on cancel, time-out and shutdown, milliseconds', group: 'tasks' }),
  taskUser: setting({ env: 'CF_LEDGER_TASK_USER', parser: optionalText, default: undefined, defaultDoc: '`cf-ledger-task` (created if missing)', doc: 'user tasks run as when the server runs as root', group: 'tasks' }),
  taskSandbox: setting({ env: 'CF_LEDGER_TASK_SANDBOX', parser: oneOf(['auto', 'bwrap', 'none']), default: 'auto', doc: '`auto` (bubblewrap when it works here), `bwrap` (required) or `none`', group: 'tasks' }),
  // ---- cluster (docs/cluster.md)
  nodeId: setting({ env: 'CF_LEDGER_NODE_ID', parser: matching(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'") as Parser<string | undefined>, default: undefined, defaultDoc: 'hash of the host name and data dir', doc: "this server's stable name among the servers sharing a database; a restart under the same name recovers its previous instance's work at once ([docs/cluster.md](docs/cluster.md))", group: 'cluster' }),
  leaseMs: setting({ env: 'CF_LEDGER_LEASE_MS', parser: duration('ms', { min: 200 }), default: 5000, doc: 'lease of claimed tasks, jobs and elected roles: a server that stops renewing is dead after this long (detection ≈ lease × 1.5), milliseconds', group: 'cluster' }),
  claimPollMs: setting({ env: 'CF_LEDGER_CLAIM_POLL_MS', parser: duration('ms', { min: 50 }), default: 2000, doc: 'how often a server looks for claimable tasks without a notification (the LISTEN/NOTIFY fallback), milliseconds', group: 'cluster' }),
  taskDrainSeconds: setting({ env: 'CF_LEDGER_TASK_DRAIN_SECONDS', parser: duration('s'), default: 0, doc: 'on SIGTERM, how long running tasks may finish before they are killed (queued claims are given back at once), seconds', group: 'cluster' }),
  // ---- logs
  logCacheMaxPerSource: setting({ env: 'CF_LEDGER_LOG_CACHE_MAX_PER_SOURCE', parser: integer({ min: 1 }), default: 100_000, doc: 'log envelopes kept in memory per app, as log-cache ([docs/logs.md](docs/logs.md))', group: 'logs' }),
  logTaskMaxBytes: setting({ env: 'CF_LEDGER_LOG_TASK_MAX_BYTES', parser: integer(), default: 256 * MiB, defaultDoc: '`268435456` (256 MiB)', doc: 'stored output per task; past it the rest is counted, not stored (recorded)', group: 'logs' }),
  logTotalMaxBytes: setting({ env: 'CF_LEDGER_LOG_TOTAL_MAX_BYTES', parser: integer(), default: 4096 * MiB, defaultDoc: '`4294967296` (4 GiB)', doc: "stored output of all tasks; the oldest finished tasks' output goes first", group: 'logs' }),
  logMaxAgeSeconds: setting({ env: 'CF_LEDGER_LOG_MAX_AGE_SECONDS', parser: duration('s'), default: 31 * 24 * 3600, defaultDoc: '`2678400` (31 days)', doc: 'stored task output kept after the task finished; `0` = forever', group: 'logs' }),
  logSweepSeconds: setting({ env: 'CF_LEDGER_LOG_SWEEP_SECONDS', parser: duration('s', { min: 1 }), default: 3600, doc: 'how often the total and age limits are applied', group: 'logs' }),
  logFlushMs: setting({ env: 'CF_LEDGER_LOG_FLUSH_MS', parser: duration('ms', { min: 1 }), default: 200, doc: 'longest a task line waits in memory before it is written', group: 'logs' }),
  logMaxPendingBytes: setting({ env: 'CF_LEDGER_LOG_MAX_PENDING_BYTES', parser: integer(), default: 256 * MiB, doc: 'task output waiting for the database; past it lines are not stored (recorded)', group: 'logs' }),
  logStreamHeartbeatSeconds: setting({ env: 'CF_LEDGER_LOG_STREAM_HEARTBEAT_SECONDS', parser: duration('s', { min: 1 }), default: 15, doc: 'heartbeat of the `/v2/read` event stream', group: 'logs' }),
  logStreamTimeoutSeconds: setting({ env: 'CF_LEDGER_LOG_STREAM_TIMEOUT_SECONDS', parser: duration('s', { min: 1 }), default: 14 * 60, doc: '`/v2/read` streams end after this long', group: 'logs' }),
  // ---- drains
  drainBufferLines: setting({ env: 'CF_LEDGER_DRAIN_BUFFER_LINES', parser: integer({ min: 1 }), default: 1_000_000, doc: 'per syslog drain: envelopes buffered before the oldest are dropped (counted, reported)', group: 'drains' }),
  drainBufferBytes: setting({ env: 'CF_LEDGER_DRAIN_BUFFER_BYTES', parser: integer({ min: 1 }), default: 256 * MiB, doc: 'per syslog drain: payload characters buffered', group: 'drains' }),
  drainBatchBytes: setting({ env: 'CF_LEDGER_DRAIN_BATCH_BYTES', parser: integer({ min: 1 }), default: 512 * 1024, doc: '`https-batch` drains: flush size', group: 'drains' }),
  drainBatchMs: setting({ env: 'CF_LEDGER_DRAIN_BATCH_MS', parser: duration('ms', { min: 1 }), default: 1000, doc: '`https-batch` drains: flush interval', group: 'drains' }),
  drainMaxBackoffMs: setting({ env: 'CF_LEDGER_DRAIN_MAX_BACKOFF_MS', parser: duration('ms', { min: 1 }), default: 15_000, doc: 'drain reconnect back-off cap', group: 'drains' }),
  drainBlockedRanges: setting({ env: 'CF_LEDGER_DRAIN_BLOCKED_RANGES', parser: list(cidr), default: [], defaultDoc: 'unset', doc: 'comma-separated CIDR ranges syslog drains may not point into (refused with 422)', group: 'drains' }),
  drainAllowSelf: setting({ env: 'CF_LEDGER_DRAIN_ALLOW_SELF', parser: boolean, default: false, doc: 'allow drain URLs that point at this server', group: 'drains' }),
  drainSkipCertVerify: setting({ env: 'CF_LEDGER_DRAIN_SKIP_CERT_VERIFY', parser: boolean, default: false, doc: 'do not verify TLS certificates of drains', group: 'drains', testOnly: true }),
  // ---- audit
  checkpointKey: setting({ env: 'CF_LEDGER_CHECKPOINT_KEY', parser: optionalText, default: undefined, defaultDoc: '`DATA_DIR/checkpoint-key.pem` (generated, 0600)', doc: 'Ed25519 private key (PKCS#8 PEM, inline or a file path) that signs ledger checkpoints ([docs/audit-events.md](docs/audit-events.md))', group: 'audit' }),
  checkpointInterval: setting({ env: 'CF_LEDGER_CHECKPOINT_INTERVAL', parser: duration('s'), default: 300, doc: 'seconds between signed checkpoints; `0` = only at start and at a clean stop', group: 'audit' }),
  eventsCutoffDays: setting({ env: 'CF_LEDGER_EVENTS_CUTOFF_DAYS', parser: duration('d'), default: 31, doc: "audit events older than this many days are archived, then pruned (CC's `cutoff_age_in_days`)", group: 'audit' }),
  pruneAt: setting({ env: 'CF_LEDGER_PRUNE_AT', parser: timeOfDay, default: '20:00', doc: 'daily prune time, HH:MM UTC; `off` disables scheduled pruning', group: 'audit' }),
  pruneInterval: setting({ env: 'CF_LEDGER_PRUNE_INTERVAL', parser: duration('s'), default: 0, defaultDoc: 'unset', doc: 'prune at start and every N seconds instead of daily', group: 'audit' }),
  pruneBatchSize: setting({ env: 'CF_LEDGER_PRUNE_BATCH_SIZE', parser: integer({ min: 1 }), default: 1000, doc: 'events per archive segment and per delete transaction', group: 'audit' }),
  archiveDir: setting({ env: 'CF_LEDGER_ARCHIVE_DIR', parser: optionalText, default: undefined, defaultDoc: '`DATA_DIR/archive`', doc: 'where pruned events are archived (gzip NDJSON segments with hash and chain anchor)', group: 'audit' }),
  fault: setting({ env: 'CF_LEDGER_FAULT', parser: oneOf(['prune-after-archive', 'prune-after-delete']) as Parser<string | undefined>, default: undefined, defaultDoc: 'unset', doc: 'fault injection: the server kills itself at that point of a prune', group: 'audit', testOnly: true }),
  // ---- export
  auditSyslogUrl: setting({ env: 'CF_LEDGER_AUDIT_SYSLOG_URL', parser: optionalText, default: undefined, defaultDoc: 'unset (off)', doc: 'forward every audit event as RFC 5424 syslog to `tcp://HOST:PORT` or `tls://HOST:PORT`, at-least-once ([docs/export.md](docs/export.md))', group: 'export' }),
  auditSyslogCa: setting({ env: 'CF_LEDGER_AUDIT_SYSLOG_CA', parser: optionalText, default: undefined, defaultDoc: "Node's CA store", doc: 'PEM CA file trusted for a `tls://` syslog receiver', group: 'export' }),
  auditSyslogHostname: setting({ env: 'CF_LEDGER_AUDIT_SYSLOG_HOSTNAME', parser: optionalText, default: undefined, defaultDoc: '`os.hostname()`', doc: 'HOSTNAME field of the forwarded syslog messages', group: 'export' }),
  // ---- the cf-ledger CLI (login, trail)
  collectConfig: setting({ env: 'CF_LEDGER_COLLECT_CONFIG', flag: '--collect <file>', parser: optionalText, default: undefined, defaultDoc: 'unset (off)', doc: 'JSON file naming the Cloud Foundry foundations to collect from (API URL, UAA client, CA); `serve` then collects too ([docs/collect.md](docs/collect.md))', group: 'collect' }),
  collectIntervalMs: setting({ env: 'CF_LEDGER_COLLECT_INTERVAL_MS', parser: duration('ms', { min: 10 }), default: 10_000, doc: 'pause between two collection passes of a foundation (events, tasks)', group: 'collect' }),
  collectOverlapSeconds: setting({ env: 'CF_LEDGER_COLLECT_OVERLAP_SECONDS', parser: duration('s'), default: 120, doc: 'each pass re-reads events this far before its cursor (CC commits are not in `created_at` order); duplicates are dropped by guid', group: 'collect' }),
  collectRescanSeconds: setting({ env: 'CF_LEDGER_COLLECT_RESCAN_SECONDS', parser: duration('s', { min: 1 }), default: 3600, doc: "how often every event the foundation still keeps is re-read, to catch events that appear later than the overlap", group: 'collect' }),
  collectOutputGraceMs: setting({ env: 'CF_LEDGER_COLLECT_OUTPUT_GRACE_MS', parser: duration('ms'), default: 5000, doc: 'after a collected task ended, how long its drain lines are still awaited when no `Exit status` line came', group: 'collect' }),
  collectDrainPort: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_PORT', parser: integer({ min: 0, max: 65535 }) as Parser<number | undefined>, default: undefined, defaultDoc: 'unset (off)', doc: 'TCP port of the incoming syslog drain (`syslog://`), `0` = any free port', group: 'collect' }),
  collectDrainTlsPort: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_TLS_PORT', parser: integer({ min: 0, max: 65535 }) as Parser<number | undefined>, default: undefined, defaultDoc: 'unset (off)', doc: 'TLS port of the incoming syslog drain (`syslog-tls://`); needs the two settings below', group: 'collect' }),
  collectDrainHttpsPort: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_HTTPS_PORT', parser: integer({ min: 0, max: 65535 }) as Parser<number | undefined>, default: undefined, defaultDoc: 'unset (off)', doc: 'HTTPS port of the incoming drain (`https://`, `https-batch://`: RFC 5424 messages POSTed as text); uses the TLS certificate below', group: 'collect' }),
  collectDrainTlsCert: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_TLS_CERT', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: 'PEM certificate file (chain) of the TLS and HTTPS drain listeners', group: 'collect' }),
  collectDrainTlsKey: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_TLS_KEY', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: 'PEM private key file of the TLS and HTTPS drain listeners', group: 'collect' }),
  collectDrainHost: setting({ env: 'CF_LEDGER_COLLECT_DRAIN_HOST', parser: text, default: '0.0.0.0', doc: 'address the drain listeners bind', group: 'collect' }),
  cliHome: setting({ env: 'CF_LEDGER_HOME', parser: optionalText, default: undefined, defaultDoc: '`~/.cf-ledger`', doc: 'where `cf-ledger login` keeps its tokens (`config.json`)', group: 'cli' }),
  cliPassword: setting({ env: 'CF_LEDGER_PASSWORD', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: '`cf-ledger login` password when `-p` is not given', group: 'cli' }),
  cliClientSecret: setting({ env: 'CF_LEDGER_CLIENT_SECRET', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: '`cf-ledger login` client secret when `--client-secret` is not given', group: 'cli' }),
  cliLogVkey: setting({ env: 'CF_LEDGER_LOG_VKEY', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: "`cf-ledger trail --verify`: the ledger log's verifier key you trust, when `--key` is not given", group: 'cli' }),
  cliToken: setting({ env: 'CF_LEDGER_TOKEN', parser: optionalText, default: undefined, defaultDoc: 'unset', doc: 'access token the `cf-ledger` client commands send instead of the `login` session', group: 'cli' }),
} as const

export type SettingName = keyof typeof S
export const SETTINGS: readonly Setting<unknown>[] = Object.values(S)

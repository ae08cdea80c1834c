import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import pino, { type Logger } from 'pino'
import { ensureUser } from './actions/role-create.ts'
import { deleteApp } from './actions/app-delete.ts'
import { deleteJobHandlers, type SpaceCascade } from './actions/deletes.ts'
import { defaultWorkRoot } from './executor/host.ts'
import { LocalExecutor, type LocalExecutorOptions } from './executor/local-executor.ts'
import { ledgerTaskRoutes } from './http/routes/ledger/tasks.ts'
import { ledgerChainRoutes } from './http/routes/ledger/chain.ts'
import { ledgerOverviewRoutes } from './http/routes/ledger/overview.ts'
import { consoleRoutes } from './http/routes/console.ts'
import { appRoutes } from './http/routes/v3/apps.ts'
import { appUsageEventRoutes } from './http/routes/v3/app-usage-events.ts'
import { featureRoutes } from './http/routes/v3/features.ts'
import { platformRoutes } from './http/routes/v3/platform.ts'
import { processRoutes } from './http/routes/v3/processes.ts'
import { taskRoutes } from './http/routes/v3/tasks.ts'
import type { AfterCommit } from './jobs/runner.ts'
import { TaskRunner } from './tasks/task-runner.ts'
import { fingerprinter, loadFingerprintKey } from './trail/fingerprint.ts'
import { Permissions } from './authz/permissions.ts'
import { loadSigningKey, TokenService } from './auth/tokens.ts'
import type { Principal } from './auth/principal.ts'
import { Uaa } from './auth/uaa.ts'
import { ensureAdmin } from './bootstrap.ts'
import type { Config } from './config.ts'
import { openApiRoute } from './http/openapi.ts'
import { rootRoutes } from './http/routes/root.ts'
import { uaaRoutes } from './http/routes/uaa.ts'
import { jobRoutes } from './http/routes/v3/jobs.ts'
import { organizationRoutes } from './http/routes/v3/organizations.ts'
import { quotaRoutes } from './http/routes/v3/quotas.ts'
import { quotaJobHandlers } from './actions/quota-jobs.ts'
import { roleRoutes } from './http/routes/v3/roles.ts'
import { spaceRoutes } from './http/routes/v3/spaces.ts'
import { userRoutes } from './http/routes/v3/users.ts'
import type { Route } from './http/route.ts'
import { buildHttpServer } from './http/server.ts'
import { bitsLimitsOf } from './bits/limits.ts'
import { materializeDroplet } from './bits/droplets.ts'
import { sweepUploadSpool } from './bits/upload-form.ts'
import { buildRoutes } from './http/routes/v3/builds.ts'
import { dropletRoutes } from './http/routes/v3/droplets.ts'
import { manifestRoutes } from './http/routes/v3/manifests.ts'
import { packageRoutes } from './http/routes/v3/packages.ts'
import { resourceMatchRoutes } from './http/routes/v3/resource-matches.ts'
import { JobRunner } from './jobs/runner.ts'
import { openStore } from './store/store.ts'
import { createMetrics } from './ops/metrics.ts'
import { opsRoutes } from './http/routes/ops.ts'
import { createLogPipeline } from './logs/pipeline.ts'
import { logCacheRoutes } from './http/routes/logs/log-cache.ts'
import { streamRoutes } from './http/routes/logs/streams.ts'
import { serviceCredentialBindingRoutes } from './http/routes/v3/service-credential-bindings.ts'
import { serviceInstanceRoutes } from './http/routes/v3/service-instances.ts'
import { deleteServiceInstancesInSpace } from './actions/service-instances.ts'
import { SyslogForwarder } from './export/forwarder.ts'
import { keyHistory, LedgerLog, loadLogSigner, originOf } from './ledger/log.ts'
import { ledgerLogRoutes } from './http/routes/ledger/log.ts'
import { leadershipFactory } from './cluster/leader.ts'
import { startCollector } from './collect/collector.ts'
import { collectedEventRoutes } from './http/routes/ledger/collected.ts'
import { localBus, postgresBus } from './cluster/bus.ts'
import { newInstance } from './cluster/config.ts'
import { EventStreams } from './export/stream.ts'
import { LedgerWatch } from './export/watch.ts'
import { eventStreamRoutes } from './http/routes/ledger/events-stream.ts'
import { auditEventRoutes } from './http/routes/v3/audit-events.ts'
import { v2ResourceRoutes } from './http/routes/v2/resources.ts'
import { v2EventRoutes } from './http/routes/v2/events.ts'
import { PruneScheduler } from './audit/archive.ts'
import { CheckpointScheduler, loadCheckpointKey, loadSharedCheckpointKey, PUBLIC_KEY_DIR } from './audit/checkpoints.ts'
import { permissionsOf } from './queries/roles.ts'

export interface RunningApp {
  readonly url: string
  readonly adminPassword: string | undefined
  readonly storeKind: string
  /** The ledger log's verifier key (signed-note vkey text form). */
  readonly ledgerVkey: string
  /** The incoming syslog drain's addresses when collecting (docs/collect.md). */
  readonly collectDrain: { readonly tcp?: string; readonly tls?: string; readonly https?: string } | undefined
  close(): Promise<void>
}

const VERSION = '0.1.0'

/** The server's executor options, from its configuration (the executor itself knows no Config). */
function localExecutorOptions(config: Config): LocalExecutorOptions {
  return {
    workRoot: config.taskWorkDir ?? defaultWorkRoot(config.dataDir, config.taskUser),
    concurrency: config.taskConcurrency,
    cancelGraceMs: config.taskCancelGraceMs,
    network: config.taskNetwork,
    user: config.taskUser,
    sandbox: config.taskSandbox,
  }
}

/** The composition root: store → auth → use cases → routes → HTTP, in that order. */
export async function startApp(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<RunningApp> {
  // The executor's host probe (the sandbox's /etc copy and a bwrap run, 0.2–0.6 s) needs no store:
  // it overlaps opening (or creating) the store and building the routes.
  const executorOptions = localExecutorOptions(config)
  const hostProbe = LocalExecutor.probe(executorOptions, logger)
  hostProbe.catch(() => {}) // handled where it is awaited
  // A new store has no token signing key yet: it is made once the server listens (below).
  let newStore = false
  const onNewStore = () => {
    newStore = true
  }
  const store = await openStore({ ...config, onNewStore }, logger).catch(async (err: unknown) => {
    await hostProbe.then((host) => host.etc.remove()).catch(() => {})
    throw err
  })
  const { db } = store
  // Many servers on one database (docs/cluster.md): who this process is, how the servers wake each
  // other, and one elected server per background role.
  const instance = newInstance(config.cluster.nodeId)
  const { leaseMs } = config.cluster
  const bus = config.databaseUrl ? await postgresBus(config.databaseUrl, logger) : localBus()
  const leadership = leadershipFactory(store.kind, { db, holder: instance.id, leaseMs, logger })
  const tokens = new TokenService(() => loadSigningKey(db), 'cf-ledger', {
    user: config.accessTokenTtlSeconds,
    client: config.clientTokenTtlSeconds,
  })
  const uaa = new Uaa(db, tokens, config.refreshTokenTtlSeconds)
  // The admin's password hash (scrypt) overlaps the rest of the start; awaited before listening.
  const admin = ensureAdmin(uaa, config.adminPassword)
  admin.catch(() => {})
  const fingerprint = fingerprinter(await loadFingerprintKey(db, config.fingerprintKey))
  // Task output, log-cache, live streams and syslog drains (docs/logs.md).
  const logs = await createLogPipeline({ db, config, logger, cluster: store.kind === 'postgres' ? { bus, instanceId: instance.id } : undefined })

  // Tasks: the runner moves task state; the executor runs processes and reports back to it.
  let apiUrl = config.publicUrl ?? ''
  const bitsLimits = bitsLimitsOf(config)
  const runner = new TaskRunner({
    db,
    sink: logs.sink,
    logger,
    // Droplets are extracted once into the cache under the data directory (docs/bits.md).
    materializeDroplet: (guid) => materializeDroplet(db, guid, path.join(config.dataDir, 'droplets'), bitsLimits),
    limits: { pids: config.taskPidLimit, maxRunSeconds: config.taskMaxRunSeconds },
    apiUrl: () => apiUrl,
    instance,
    bus,
    slots: config.taskConcurrency,
    leaseMs,
    pollMs: config.cluster.pollMs,
    interruptOutput: (guids) => logs.store.interrupt(guids),
  })

  const cancelAfterCommit = (afterCommit: AfterCommit, taskGuids: readonly string[]) =>
    afterCommit(async () => {
      for (const guid of taskGuids) await runner.cancel(guid)
    })
  const deleteAppsInSpace: SpaceCascade = async (tx, spaceGuid, actor, afterCommit) => {
    const apps = await tx.selectFrom('apps').select('guid').where('space_guid', '=', spaceGuid).execute()
    for (const a of apps) cancelAfterCommit(afterCommit, await deleteApp(tx, a.guid, actor))
  }
  const jobs = new JobRunner(
    db,
    {
      ...deleteJobHandlers([deleteServiceInstancesInSpace, deleteAppsInSpace]),
      ...quotaJobHandlers(),
      'app.delete': async (tx, job, afterCommit) => cancelAfterCommit(afterCommit, await deleteApp(tx, job.resource_guid, job.actor)),
    },
    logger,
    { ...instance, leaseMs },
  )

  const knownUsers = new Set<string>()
  async function loadPermissions(p: Principal): Promise<Permissions> {
    if (!knownUsers.has(p.guid)) {
      // CC registers every user it sees a valid token for.
      await ensureUser(db, p.guid)
      knownUsers.add(p.guid)
    }
    return permissionsOf(db, p)
  }

  const authenticate = (token: string) => tokens.verify(token)
  // Audit export (docs/export.md): NDJSON streams and the optional syslog forwarder.
  const ledgerWatch = new LedgerWatch(db, logger)
  const eventStreams = new EventStreams(db, ledgerWatch, logger)
  const auditForwarder = config.auditSyslog
    ? new SyslogForwarder(db, ledgerWatch, logger, config.auditSyslog, leadership('forwarder'))
    : undefined
  // The verifiable ledger (docs/ledger.md): one integrator and signer per cluster, one log key.
  const ledgerOrigin = originOf(config.ledger, config.publicUrl)
  const ledgerLog = new LedgerLog({
    db,
    config: config.ledger,
    signer: await loadLogSigner(db, config.ledger, ledgerOrigin),
    origin: ledgerOrigin,
    leadership: leadership('integrator'),
    logger,
    onIntegrated: () => ledgerWatch.nudge(),
  })
  // Drains live in the database; every server ships its own tasks' lines, so all reload (docs/cluster.md).
  const drainsChanged = async () => {
    await logs.drains.reload()
    await bus.notify('cf_ledger_drains_changed', instance.id)
  }
  const stopDrainFollow = bus.listen('cf_ledger_drains_changed', (from) => {
    if (from !== instance.id) void logs.drains.reload().catch((err) => logger.warn({ err }, 'could not reload syslog drains'))
  })
  const metrics = createMetrics({ store, output: logs.store, drains: () => logs.drains.stats() })
  const routes: Route[] = [
    ...rootRoutes(),
    ...opsRoutes({ db, metrics, access: config.metricsAccess, token: config.metricsToken, authenticate, loadPermissions }),
    ...uaaRoutes({ uaa, tokens, authenticate }),
    ...organizationRoutes({ db, jobs }),
    ...spaceRoutes({ db, jobs }),
    ...quotaRoutes({ db, jobs }),
    ...userRoutes({ db, jobs }),
    ...roleRoutes({ db, jobs }),
    ...jobRoutes({ db }),
    ...logCacheRoutes(logs, { db }),
    ...streamRoutes(logs, { db }, config.logs),
    ...serviceInstanceRoutes({ db, drainsChanged, policy: logs.drains.policy }),
    ...serviceCredentialBindingRoutes({ db, drainsChanged }),
    ...eventStreamRoutes({ db, streams: eventStreams, forwarder: auditForwarder }),
    ...auditEventRoutes({ db }),
    ...ledgerLogRoutes({ db, vkey: () => ledgerLog.vkey, keyHistory: () => keyHistory(db) }),
    ...v2EventRoutes({ db }),
    ...v2ResourceRoutes({ db }),
    ...appRoutes({ db, jobs }),
    ...processRoutes({ db }),
    ...platformRoutes({ db, authenticate }),
    ...featureRoutes({ db }),
    ...appUsageEventRoutes({ db }),
    ...resourceMatchRoutes(),
    ...packageRoutes({ db, limits: bitsLimits }),
    ...buildRoutes({ db }),
    ...dropletRoutes({ db }),
    ...manifestRoutes({ db }),
    ...taskRoutes({ db, runner, maxDiskInMb: config.maxTaskDiskInMb, fingerprint }),
    ...ledgerTaskRoutes({
      db,
      output: logs.outputReader,
      fingerprint,
      inlineOutputLines: 100,
      limits: () => ({
        pids: config.taskPidLimit,
        maxRunSeconds: config.taskMaxRunSeconds,
        isolation: executor.info.isolation,
        memoryLimit: executor.info.memoryLimit,
      }),
    }),
    ...ledgerChainRoutes({ db, publicKey: (keyId) => checkpointPublicKey(config.dataDir, keyId) }),
    ...ledgerOverviewRoutes({ db }),
    ...collectedEventRoutes({ db }),
    ...consoleRoutes(),
  ]
  routes.push(openApiRoute(() => routes, VERSION))

  // The executor reaps what a previous server on this work root left only now: with the store
  // open, this process is the one server on it (the embedded store's lock).
  const executor = await LocalExecutor.create(executorOptions, runner, logger, hostProbe)
  runner.attach(executor)
  const uploadSpool = path.join(config.dataDir, 'uploads')
  await sweepUploadSpool(uploadSpool)
  const http = buildHttpServer(routes, {
    logger,
    publicUrl: config.publicUrl,
    authenticate,
    loadPermissions,
    uploads: { dir: uploadSpool, maxFileBytes: config.maxPackageBytes },
  })
  http.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })
  // A stored key is checked before listening; a new one (an RSA key takes 0.1–0.9 s of CPU) is
  // made right after, and the first token request waits for it.
  const [adminPassword] = await Promise.all([admin, newStore ? undefined : tokens.ready()])
  await http.listen({ host: config.host, port: config.port })
  if (newStore) tokens.ready().catch((err: unknown) => logger.error({ err }, 'could not create the token signing key; retried at the next token request'))
  const address = http.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
  apiUrl ||= url
  logs.setSelfUrl(url)
  await jobs.resumePending()
  auditForwarder?.start()
  // The ledger's background work: signed checkpoints, and retention pruning into archives.
  // With many servers: one key from the database for all, one elected signer and pruner, and the
  // archive in one configured place (CF_LEDGER_ARCHIVE_DIR) (docs/cluster.md).
  const checkpointKey =
    store.kind === 'postgres'
      ? await loadSharedCheckpointKey(db, config.dataDir, config.audit.checkpointKey)
      : loadCheckpointKey(config.dataDir, config.audit.checkpointKey)
  const checkpoints = new CheckpointScheduler(db, checkpointKey, config.dataDir, config.audit.checkpointIntervalSeconds, logger, leadership('checkpointer'))
  checkpoints.start()
  ledgerLog.start()
  const pruning = new PruneScheduler(
    db,
    {
      archiveDir: config.audit.archiveDir ?? path.join(config.dataDir, 'archive'),
      cutoffDays: config.audit.eventsCutoffDays,
      batchSize: config.audit.pruneBatchSize,
      logger,
      fault: config.audit.fault,
    },
    { at: config.audit.pruneAt, intervalSeconds: config.audit.pruneIntervalSeconds },
    logger,
    leadership('pruner'),
  )
  pruning.start()
  await runner.start()
  // Collecting from existing foundations (docs/collect.md): run on one server of a cluster.
  const collector = config.collect ? await startCollector({ db, config: config.collect, output: logs.store, fingerprint, logger }) : undefined
  // Jobs of a dead server are taken over by the same sweep cadence as its tasks.
  const jobSweep = setInterval(() => void jobs.resumePending().catch(() => undefined), Math.max(100, Math.floor(leaseMs / 2)))
  jobSweep.unref()

  return {
    url,
    adminPassword,
    storeKind: store.kind,
    ledgerVkey: ledgerLog.vkey,
    collectDrain: collector?.drain?.addresses,
    async close() {
      await collector?.stop()
      logs.endStreams()
      await eventStreams.close()
      await http.close()
      await auditForwarder?.stop()
      ledgerWatch.close()
      clearInterval(jobSweep)
      stopDrainFollow()
      await jobs.drain()
      // Gives queued claims back at once, lets running tasks drain, then kills the rest.
      await runner.stop(config.cluster.drainSeconds * 1000)
      await logs.close()
      await pruning.stop()
      await checkpoints.stop()
      await ledgerLog.stop()
      await bus.close()
      await store.close()
    },
  }
}

/** A checkpoint public key this data directory has used (checkpoint-keys/<id>.pub.pem), as SPKI DER. */
function checkpointPublicKey(dataDir: string, keyId: string): Buffer | undefined {
  if (!/^[0-9a-f]{16}$/.test(keyId)) return undefined
  try {
    const pem = fs.readFileSync(path.join(dataDir, PUBLIC_KEY_DIR, `${keyId}.pub.pem`), 'utf8')
    return crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' })
  } catch {
    return undefined
  }
}

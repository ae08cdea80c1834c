import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { applyMetadata } from '../messages/metadata.ts'
import { auditManifestYaml, type AppManifest, type ManifestProcess, type ParsedManifest } from '../messages/manifest.ts'
import type { AppRow, ProcessRow, SpaceRow } from '../store/schema.ts'
import { isUniqueViolation, type Db } from '../store/store.ts'
import { defaultProcess, insertApp } from './app-create.ts'
import { redactAppRequest, redactProcessUpdateRequest } from '../audit/redaction.ts'
import { recordAppEvent } from './events/app.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

const MANIFEST_TRIGGERED = { manifest_triggered: true } as const

interface Target {
  readonly app: AppRow
  readonly space: SpaceRow
}

function event(tx: Db, ctx: ActionContext, t: Target, type: string, metadata: Record<string, unknown>) {
  return recordAppEvent(tx, t.app, t.space.organization_guid, ctx.actor, type, metadata)
}

/** CC's AppFindOrCreateSkeleton: an app the manifest names is created first, with its lifecycle and metadata. */
async function findOrCreateApp(tx: Db, ctx: ActionContext, space: SpaceRow, m: AppManifest): Promise<AppRow> {
  const existing = await tx.selectFrom('apps').selectAll().where('space_guid', '=', space.guid).where('name', '=', m.name).forUpdate().executeTakeFirst()
  if (existing) return existing
  const lifecycle = m.buildpacks || m.stack ? { data: { ...(m.buildpacks ? { buildpacks: m.buildpacks } : {}), ...(m.stack ? { stack: m.stack } : {}) } } : undefined
  const request = {
    name: m.name,
    relationships: { space: { data: { guid: space.guid } } },
    ...(lifecycle ? { lifecycle } : {}),
    ...(m.metadata ? { metadata: m.metadata } : {}),
  }
  return insertApp(tx, ctx, space, { name: m.name, buildpacks: m.buildpacks, stack: m.stack, metadata: m.metadata }, request)
}

/** CC's ProcessCreate from a manifest: a process type the app does not have yet. */
async function createProcess(tx: Db, ctx: ActionContext, t: Target, type: string): Promise<ProcessRow> {
  const now = new Date()
  const row = await tx
    .insertInto('processes')
    .values(defaultProcess(t.app.guid, type, now))
    .returningAll()
    .executeTakeFirstOrThrow()
  await event(tx, ctx, t, APP_EVENT_TYPES.processCreate, { process_guid: row.guid, process_type: type, ...MANIFEST_TRIGGERED })
  return row
}

async function processOf(tx: Db, ctx: ActionContext, t: Target, type: string): Promise<ProcessRow> {
  const found = await tx.selectFrom('processes').selectAll().where('app_guid', '=', t.app.guid).where('type', '=', type).executeTakeFirst()
  return found ?? createProcess(tx, ctx, t, type)
}

async function updateProcess(tx: Db, ctx: ActionContext, t: Target, p: ManifestProcess) {
  const process = await processOf(tx, ctx, t, p.type)
  let healthCheck = process.health_check
  if (p.healthCheck) {
    const hc = p.healthCheck
    const type = hc.type ?? healthCheck.type
    const data: Record<string, unknown> = { ...healthCheck.data }
    if (hc.timeout !== undefined) data.timeout = hc.timeout
    if (hc.invocationTimeout !== undefined) data.invocation_timeout = hc.invocationTimeout
    if (hc.interval !== undefined) data.interval = hc.interval
    if (hc.endpoint !== undefined) data.endpoint = hc.endpoint
    if (type !== 'http') delete data.endpoint
    healthCheck = { type, data }
  }
  await tx
    .updateTable('processes')
    .set({
      command: p.command === undefined ? process.command : p.command,
      health_check: JSON.stringify(healthCheck),
      updated_at: new Date(),
    })
    .where('guid', '=', process.guid)
    .execute()
  const request = redactProcessUpdateRequest(p.updateRequest)
  await event(tx, ctx, t, APP_EVENT_TYPES.processUpdate, { process_guid: process.guid, process_type: process.type, request, ...MANIFEST_TRIGGERED })
}

async function scaleProcess(tx: Db, ctx: ActionContext, t: Target, p: ManifestProcess) {
  const process = await processOf(tx, ctx, t, p.type)
  await tx
    .updateTable('processes')
    .set({
      instances: p.instances ?? process.instances,
      memory_in_mb: p.memoryInMb ?? process.memory_in_mb,
      disk_in_mb: p.diskInMb ?? process.disk_in_mb,
      log_rate_limit_in_bytes_per_second: p.logRateLimit ?? process.log_rate_limit_in_bytes_per_second,
      updated_at: new Date(),
    })
    .where('guid', '=', process.guid)
    .execute()
  await event(tx, ctx, t, APP_EVENT_TYPES.processScale, {
    process_guid: process.guid,
    process_type: process.type,
    request: p.scaleRequest,
    ...MANIFEST_TRIGGERED,
  })
}

/** CC's AppApplyManifest, in its order: process updates, scales, the app update, then env. */
async function applyToApp(tx: Db, ctx: ActionContext, t0: Target, m: AppManifest) {
  let t = t0
  for (const p of m.processes.filter((x) => x.update)) await updateProcess(tx, ctx, t, p)
  for (const p of m.processes.filter((x) => x.scale)) await scaleProcess(tx, ctx, t, p)

  const app = t.app
  const lifecycle =
    m.buildpacks || m.stack
      ? { type: app.lifecycle.type, data: { buildpacks: m.buildpacks ?? app.lifecycle.data.buildpacks, stack: m.stack ?? app.lifecycle.data.stack } }
      : app.lifecycle
  const meta = applyMetadata(app, m.metadata)
  const updated = await tx
    .updateTable('apps')
    .set({
      lifecycle: JSON.stringify(lifecycle),
      labels: JSON.stringify(meta.labels),
      annotations: JSON.stringify(meta.annotations),
      updated_at: new Date(),
    })
    .where('guid', '=', app.guid)
    .returningAll()
    .executeTakeFirstOrThrow()
  t = { ...t, app: updated }
  const updateRequest: Record<string, unknown> = {}
  if (m.buildpacks || m.stack) {
    updateRequest.lifecycle = { data: { ...(m.buildpacks ? { buildpacks: m.buildpacks } : {}), ...(m.stack ? { stack: m.stack } : {}) } }
  }
  if (m.metadata) updateRequest.metadata = m.metadata
  await event(tx, ctx, t, APP_EVENT_TYPES.update, { request: redactAppRequest(updateRequest), ...MANIFEST_TRIGGERED })

  if (m.env) {
    const env = { ...updated.environment_variables, ...m.env }
    await tx
      .updateTable('apps')
      .set({ environment_variables: JSON.stringify(env), updated_at: new Date() })
      .where('guid', '=', app.guid)
      .execute()
    await event(tx, ctx, t, APP_EVENT_TYPES.update, { request: redactAppRequest({ environment_variables: m.env }), ...MANIFEST_TRIGGERED })
  }
}

function warningsOf(manifest: ParsedManifest): { detail: string }[] {
  return manifest.applications
    .filter((a) => a.ignored.length > 0)
    .map((a) => ({
      detail: `For application '${a.name}': ${a.ignored.join(', ')} ignored: cf-ledger runs tasks only and maps no routes`,
    }))
}

async function applyOnce(ctx: ActionContext, space: SpaceRow, manifest: ParsedManifest): Promise<string> {
  return ctx.db.transaction().execute(async (tx) => {
    const targets: { t: Target; m: AppManifest }[] = []
    for (const m of manifest.applications) targets.push({ t: { app: await findOrCreateApp(tx, ctx, space, m), space }, m })
    for (const { t, m } of targets) {
      await event(tx, ctx, t, APP_EVENT_TYPES.applyManifest, { request: { manifest: auditManifestYaml(m) } })
    }
    for (const { t, m } of targets) await applyToApp(tx, ctx, t, m)
    const guid = newGuid()
    const now = new Date()
    await tx
      .insertInto('jobs')
      .values({
        guid,
        operation: 'app.apply_manifest',
        state: 'COMPLETE',
        resource_type: 'space',
        resource_guid: space.guid,
        actor: JSON.stringify(ctx.actor),
        errors: '[]',
        warnings: JSON.stringify(warningsOf(manifest)),
        created_at: now,
        updated_at: now,
      })
      .execute()
    return guid
  })
}

/**
 * `POST /v3/spaces/:guid/actions/apply_manifest`. CC creates missing apps and records the
 * apply_manifest events at once, then applies the rest in a job; cf-ledger does all of it in one
 * transaction and records the job already COMPLETE, so the client's first poll sees the end.
 * Everything that could fail the job was validated before (src/messages/manifest.ts).
 */
export async function applyManifest(ctx: ActionContext, space: SpaceRow, manifest: ParsedManifest): Promise<string> {
  try {
    return await applyOnce(ctx, space, manifest)
  } catch (err) {
    // Two manifests creating the same app at once: the loser retries and finds the app.
    if (isUniqueViolation(err)) return applyOnce(ctx, space, manifest)
    throw err
  }
}

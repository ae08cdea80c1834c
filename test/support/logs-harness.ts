// In-process server for log pipeline tests: the real composition root (startApp) in this process,
// so tests can drive the task log sink directly and read the result over HTTP and in the store.
import crypto from 'node:crypto'
import path from 'node:path'
import pino from 'pino'
import { startApp, type RunningApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import type { OutputLine } from '../../src/executor/executor.ts'
import { nowNs } from '../../src/executor/line-reader.ts'
import { activePipelines, type LogPipeline } from '../../src/logs/pipeline.ts'
import type { TaskLogContext } from '../../src/logs/sink.ts'
import { Api, createOrgAndSpace, expectOk } from './client.ts'
import { ADMIN_PASSWORD, freshStore, type StoreKind } from './server.ts'

export interface Harness {
  readonly app: RunningApp
  readonly pipeline: LogPipeline
  readonly api: Api
  readonly admin: Api
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  close(): Promise<void>
}

export async function startHarness(store: StoreKind, env: Record<string, string> = {}): Promise<Harness> {
  const fresh = await freshStore(store)
  const e: NodeJS.ProcessEnv = { ...process.env, CF_LEDGER_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env }
  delete e.DATABASE_URL
  if (fresh.databaseUrl) e.DATABASE_URL = fresh.databaseUrl
  const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir: fresh.dataDir }, e)
  const app = await startApp(config, pino({ level: 'error' }))
  const pipeline = activePipelines().find((p) => p.selfUrl === app.url)!
  const api = new Api(app.url)
  const admin = await api.admin()
  return { app, pipeline, api, admin, dataDir: path.resolve(fresh.dataDir), databaseUrl: fresh.databaseUrl, close: () => app.close() }
}

export interface FakeApp {
  readonly orgGuid: string
  readonly spaceGuid: string
  readonly appGuid: string
  readonly orgName: string
  readonly spaceName: string
  readonly appName: string
}

/** An org, a space and an app (no droplet): enough for logs, bindings and authorization. */
export async function createApp(admin: Api, name = `app-${crypto.randomUUID().slice(0, 6)}`): Promise<FakeApp> {
  const orgName = `org-${crypto.randomUUID().slice(0, 6)}`
  const spaceName = 'dev'
  const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, orgName, spaceName)
  const a = expectOk(await admin.post('/v3/apps', { name, relationships: { space: { data: { guid: spaceGuid } } } }), 201)
  return { orgGuid, spaceGuid, appGuid: a.body.guid, orgName, spaceName, appName: name }
}

export function contextOf(app: FakeApp, task: { guid?: string; name?: string; rate?: number } = {}): TaskLogContext {
  return {
    taskGuid: task.guid ?? crypto.randomUUID(),
    taskName: task.name ?? 'migrate',
    appGuid: app.appGuid,
    appName: app.appName,
    spaceGuid: app.spaceGuid,
    spaceName: app.spaceName,
    organizationGuid: app.orgGuid,
    organizationName: app.orgName,
    logRateLimitBytesPerSecond: task.rate ?? -1,
  }
}

export const line = (text: string, stream: 'OUT' | 'ERR' = 'OUT'): OutputLine => ({ stream, text, timestampNs: nowNs() })

/** Runs a whole fake task through the sink: start, lines, exit. */
export async function runFakeTask(p: LogPipeline, ctx: TaskLogContext, lines: readonly (string | OutputLine)[], code = 0) {
  p.sink.taskStarting(ctx)
  for (const l of lines) p.sink.taskOutput(ctx, typeof l === 'string' ? line(l) : l)
  return p.sink.taskExited(ctx, { exitStatus: code, oomKilled: false })
}

export function sha256Lines(lines: readonly string[]): string {
  const h = crypto.createHash('sha256')
  for (const l of lines) h.update(l + '\n')
  return h.digest('hex')
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const decodePayload = (e: any): string => Buffer.from(e.log.payload, 'base64').toString('utf8')

/** The server's database (in-process), for rows HTTP cannot create without running a task. */
export function dbOf(p: LogPipeline) {
  return p.store['db']
}

/** A task row as the tasks API would write it, so /v3/tasks/:guid/output can find it. */
export async function insertTask(p: LogPipeline, ctx: TaskLogContext, state = 'RUNNING'): Promise<void> {
  const db = dbOf(p)
  const seq = await db.selectFrom('tasks').select(db.fn.count<number>('guid').as('n')).where('app_guid', '=', ctx.appGuid).executeTakeFirst()
  const now = new Date()
  await db
    .insertInto('tasks')
    .values({
      guid: ctx.taskGuid,
      app_guid: ctx.appGuid,
      space_guid: ctx.spaceGuid,
      organization_guid: ctx.organizationGuid,
      sequence_id: Number(seq?.n ?? 0) + 1,
      name: ctx.taskName,
      command: 'echo hi',
      state,
      memory_in_mb: 256,
      disk_in_mb: 256,
      log_rate_limit_in_bytes_per_second: ctx.logRateLimitBytesPerSecond,
      droplet_guid: crypto.randomUUID(),
      failure_reason: null,
      exit_status: null,
      started_at: now,
      finished_at: null,
      created_by: JSON.stringify({ guid: 'u', type: 'user', name: '', username: 'admin', origin: 'uaa', client_id: 'cf', ip: '127.0.0.1', user_agent: 'test' }),
      target_names: JSON.stringify({ app: ctx.appName, space: ctx.spaceName, organization: ctx.organizationName }),
      created_at: now,
      updated_at: now,
      labels: '{}',
      annotations: '{}',
    })
    .execute()
}

export async function setTaskState(p: LogPipeline, taskGuid: string, state: string): Promise<void> {
  await dbOf(p).updateTable('tasks').set({ state, updated_at: new Date() }).where('guid', '=', taskGuid).execute()
}


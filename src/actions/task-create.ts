import crypto from 'node:crypto'
import { sql } from 'kysely'
import { apiError, notFound, unprocessable } from '../errors/api-error.ts'
import { applyMetadata } from '../messages/metadata.ts'
import type { TaskCreateMessage } from '../messages/task.ts'
import { detectedProcessTypes, specifiedOrDetectedCommand, type AppWithSpace } from '../queries/apps.ts'
import type { TaskCreator, TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { PROCESS_DEFAULTS } from './app-create.ts'
import type { Fingerprint } from '../trail/fingerprint.ts'
import type { ActionContext } from './context.ts'
import { checkTaskQuotas } from './task-quotas.ts'
import { taskCreateEventInsert } from './events/task.ts'

export interface TaskCreateContext extends ActionContext {
  readonly creator: TaskCreator
  readonly maxDiskInMb: number
  readonly fingerprint: Fingerprint
}

/**
 * CC's TaskCreate: resolve defaults (request → template process → app defaults), check the
 * droplet and quotas, take the next sequence id under the app's row lock, insert PENDING and
 * record `audit.app.task.create`, all in one transaction. The caller submits after commit.
 */
export async function createTask(ctx: TaskCreateContext, target: AppWithSpace, msg: TaskCreateMessage): Promise<TaskRow> {
  const { app, space } = target
  const template = msg.template
    ? await ctx.db.selectFrom('processes').selectAll().where('guid', '=', msg.template.process.guid).where('app_guid', '=', app.guid).executeTakeFirst()
    : undefined
  if (msg.template && !template) throw apiError('ProcessNotFound', msg.template.process.guid)
  // CC's TaskCreate#command: the request's, else the template process's specified or detected
  // command (the current droplet's process_types, e.g. `task:` from a Procfile).
  const detected = template ? (await detectedProcessTypes(ctx.db, [app.guid])).get(app.guid) : undefined
  const command = msg.command ?? (template ? specifiedOrDetectedCommand(template, detected) : null)
  if (!command) throw unprocessable('Task must have a command. Specify a command or a process with a command.')
  const memory = msg.memory_in_mb ?? template?.memory_in_mb ?? PROCESS_DEFAULTS.memoryInMb
  const disk = msg.disk_in_mb ?? template?.disk_in_mb ?? PROCESS_DEFAULTS.diskInMb
  if (disk > ctx.maxDiskInMb) throw unprocessable(`Cannot request disk_in_mb greater than ${ctx.maxDiskInMb}`)
  const logRate = msg.log_rate_limit_in_bytes_per_second ?? template?.log_rate_limit_in_bytes_per_second ?? PROCESS_DEFAULTS.logRateLimit

  let dropletGuid = app.current_droplet_guid
  if (msg.droplet_guid) {
    const droplet = await ctx.db.selectFrom('droplets').select(['guid', 'app_guid']).where('guid', '=', msg.droplet_guid).executeTakeFirst()
    if (!droplet || droplet.app_guid !== app.guid) throw notFound('Droplet')
    dropletGuid = droplet.guid
  }
  if (!dropletGuid) throw unprocessable('Task must have a droplet. Specify droplet or assign current droplet to app.')

  const meta = applyMetadata({ labels: {}, annotations: {} }, msg.metadata)
  const org = target.organization
  const now = new Date()
  const task: Omit<TaskRow, 'sequence_id'> = {
    guid: crypto.randomUUID(),
    app_guid: app.guid,
    space_guid: space.guid,
    organization_guid: org.guid,
    name: msg.name ?? crypto.randomBytes(4).toString('hex'),
    command,
    state: 'PENDING',
    memory_in_mb: memory,
    disk_in_mb: disk,
    log_rate_limit_in_bytes_per_second: logRate,
    droplet_guid: dropletGuid,
    failure_reason: null,
    exit_status: null,
    started_at: null,
    finished_at: null,
    created_by: ctx.creator,
    target_names: { app: app.name, space: space.name, organization: org.name },
    command_fingerprint: ctx.fingerprint(command),
    created_at: now,
    updated_at: now,
    ...meta,
    // Claimed later by whichever server has a free slot (docs/cluster.md).
    owner: null,
    lease_expires_at: null,
    claim_token: 0,
    launched_at: null,
    foundation: null,
  }
  // The next sequence id (under the app's row lock), the task and its event in one statement.
  const insert = async (db: Db): Promise<TaskRow> => {
    const r = await sql<{ sequence_id: number }>`
      with seq as (update apps set max_task_sequence_id = max_task_sequence_id + 1 where guid = ${app.guid} returning max_task_sequence_id),
      task as (
        insert into tasks select row.* from seq,
          jsonb_populate_record(null::tasks, ${JSON.stringify(task)}::jsonb || jsonb_build_object('sequence_id', seq.max_task_sequence_id)) row
        returning sequence_id),
      event as (${taskCreateEventInsert(task, ctx.actor, 'task')})
      select sequence_id from task`.execute(db)
    if (!r.rows[0]) throw notFound('App')
    return { ...task, sequence_id: Number(r.rows[0].sequence_id) }
  }
  // Without quotas that is the whole write: one round trip, its own transaction. Quotas count the
  // active tasks after taking the app's row lock, so that path is a transaction around the insert.
  if (!org.quota_guid && !space.quota_guid) return insert(ctx.db)
  return ctx.db.transaction().execute(async (tx: Db) => {
    const locked = await tx.selectFrom('apps').select('guid').where('guid', '=', app.guid).forUpdate().executeTakeFirst()
    if (!locked) throw notFound('App')
    await checkTaskQuotas(tx, space, org, memory)
    return insert(tx)
  })
}

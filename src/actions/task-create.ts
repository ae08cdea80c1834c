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
import { recordTaskCreate } from './events/task.ts'

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
  return ctx.db.transaction().execute(async (tx: Db) => {
    // The app's row lock and the next sequence id in one statement; a refused quota rolls it back.
    const locked = await sql<{ sequence_id: number }>`
      update apps set max_task_sequence_id = max_task_sequence_id + 1 where guid = ${app.guid} returning max_task_sequence_id as sequence_id`.execute(tx)
    if (!locked.rows[0]) throw notFound('App')
    const org = await checkTaskQuotas(tx, space, memory)
    const sequenceId = Number(locked.rows[0].sequence_id)
    const now = new Date()
    const task: TaskRow = {
      guid: crypto.randomUUID(),
      app_guid: app.guid,
      space_guid: space.guid,
      organization_guid: org.guid,
      sequence_id: sequenceId,
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
    await tx
      .insertInto('tasks')
      .values({
        ...task,
        created_by: JSON.stringify(task.created_by),
        target_names: JSON.stringify(task.target_names),
        labels: JSON.stringify(task.labels),
        annotations: JSON.stringify(task.annotations),
      })
      .execute()
    await recordTaskCreate(tx, task, ctx.actor)
    return task
  })
}

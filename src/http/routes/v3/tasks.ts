import { cancelTask } from '../../../actions/task-cancel.ts'
import { updateTaskMetadata } from '../../../actions/metadata-update.ts'
import { createTask } from '../../../actions/task-create.ts'
import { requireFeature } from '../../../queries/feature-flags.ts'
import { actorOf } from '../../../auth/principal.ts'
import { notAuthorized, notFound } from '../../../errors/api-error.ts'
import { commaList, listQuery, listFilter, sequenceIds } from '../../../messages/list-query.ts'
import { applyMetadata } from '../../../messages/metadata.ts'
import { taskCreateSchema, taskUpdateSchema } from '../../../messages/task.ts'
import { findApp } from '../../../queries/apps.ts'
import { listTasks } from '../../../queries/tasks.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentTask } from '../../../presenters/v3/task.ts'
import type { Db } from '../../../store/store.ts'
import type { TaskRunner } from '../../../tasks/task-runner.ts'
import type { Fingerprint } from '../../../trail/fingerprint.ts'
import { ok, type AuthedContext, type Route, route } from '../../route.ts'
import { actionContext, commonList } from './common.ts'
import { requireSpaceDeveloper } from './apps.ts'
import { visibleApp, visibleTask } from '../visible.ts'

const STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'CANCELING', 'FAILED']
const states = listFilter.refine((xs) => xs.every((s) => STATES.includes(s)), {
  message: `States must be one of ${STATES.map((s) => `'${s}'`).join(', ')}`,
}).meta({ pattern: commaList(STATES.join('|')) })
const globalList = listQuery({
  filters: ['guids', 'names', 'app_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
  extra: { states: states.optional() },
})
const appList = listQuery({
  filters: ['guids', 'names'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
  extra: { states: states.optional(), sequence_ids: sequenceIds.optional() },
})

export interface TaskRouteDeps {
  readonly db: Db
  readonly runner: TaskRunner
  readonly maxDiskInMb: number
  readonly fingerprint: Fingerprint
}

export function taskRoutes(deps: TaskRouteDeps): Route[] {
  const { db, runner } = deps

  /** Cancel: admin, space developer and space supporter (CC's can_manage_apps_in_active_space?). */
  async function cancel(ctx: AuthedContext) {
    const task = await visibleTask(db, ctx)
    const supporter = ctx.perms.canWriteToSpace(task.space_guid) || ctx.perms.hasSpaceRole(task.space_guid, 'space_supporter')
    if (!supporter) throw notAuthorized()
    const canceling = await cancelTask(actionContext(db, ctx), task.guid)
    void runner.cancel(task.guid)
    return ok(presentTask(canceling, ctx.baseUrl, ctx.perms.canReadSecretsInSpace(task.space_guid)), 202)
  }

  return [
    route({
      method: 'POST',
      url: '/v3/apps/:guid/tasks',
      summary: 'Run a task (202; space developer)',
      tag: 'Tasks',
      auth: 'write',
      body: taskCreateSchema,
      async handler(ctx) {
        await requireFeature(db, 'task_creation', ctx.perms)
        const target = await visibleApp(db, ctx)
        requireSpaceDeveloper(ctx, target)
        const actor = actorOf(ctx.principal)
        const task = await createTask(
          {
            db,
            actor,
            maxDiskInMb: deps.maxDiskInMb,
            fingerprint: deps.fingerprint,
            creator: {
              ...actor,
              origin: ctx.principal.origin,
              client_id: ctx.principal.clientId,
              ip: ctx.request.ip,
              user_agent: ctx.request.userAgent,
            },
          },
          target,
          ctx.body,
        )
        runner.created()
        return ok(presentTask(task, ctx.baseUrl, true), 202)
      },
    }),
    route({
      method: 'GET',
      url: '/v3/tasks',
      summary: 'List tasks (the command is never shown here, as in CC)',
      tag: 'Tasks',
      auth: 'read',
      query: globalList,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const page = await listTasks(
          db,
          ctx.perms,
          {
            guids: q.guids,
            names: q.names,
            states: q.states as string[] | undefined,
            appGuids: q.app_guids,
            spaceGuids: q.space_guids,
            organizationGuids: q.organization_guids,
            labels: c.labels,
            createdAts: c.createdAts,
            updatedAts: c.updatedAts,
          },
          c.paging,
          c.order,
        )
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((t) => presentTask(t, ctx.baseUrl, false))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/tasks',
      summary: "List an app's tasks",
      tag: 'Tasks',
      auth: 'read',
      query: appList,
      async handler(ctx) {
        const { app, space } = await visibleApp(db, ctx)
        const q = ctx.query
        const c = commonList(q)
        const page = await listTasks(
          db,
          ctx.perms,
          {
            appGuids: [app.guid],
            guids: q.guids,
            names: q.names,
            states: q.states as string[] | undefined,
            sequenceIds: q.sequence_ids as number[] | undefined,
            labels: c.labels,
            createdAts: c.createdAts,
            updatedAts: c.updatedAts,
          },
          c.paging,
          c.order,
        )
        const show = ctx.perms.canReadSecretsInSpace(space.guid)
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((t) => presentTask(t, ctx.baseUrl, show))))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/tasks/:guid',
      summary: 'Get a task (command for admin, admin read-only and space developers)',
      tag: 'Tasks',
      auth: 'read',
      async handler(ctx) {
        const task = await visibleTask(db, ctx)
        return ok(presentTask(task, ctx.baseUrl, ctx.perms.canReadSecretsInSpace(task.space_guid)))
      },
    }),
    route({
      method: 'POST',
      url: '/v3/tasks/:guid/actions/cancel',
      summary: 'Cancel a task (202)',
      tag: 'Tasks',
      auth: 'write',
      handler: cancel,
    }),
    route({
      method: 'PUT',
      url: '/v3/tasks/:guid/cancel',
      summary: 'Cancel a task (deprecated path that cf v8 uses)',
      tag: 'Tasks',
      auth: 'write',
      handler: cancel,
    }),
    route({
      method: 'PATCH',
      url: '/v3/tasks/:guid',
      summary: "Update a task's metadata",
      tag: 'Tasks',
      auth: 'write',
      body: taskUpdateSchema,
      async handler(ctx) {
        const task = await visibleTask(db, ctx)
        const target = await findApp(db, task.app_guid)
        if (!target) throw notFound('Task')
        requireSpaceDeveloper(ctx, target)
        const meta = applyMetadata(task, ctx.body.metadata)
        const updated = await updateTaskMetadata(db, task.guid, meta)
        return ok(presentTask(updated, ctx.baseUrl, true))
      },
    }),
  ]
}

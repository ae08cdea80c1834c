// `/v3/service_credential_bindings` of type `app` for user-provided instances: `cf bind-service`
// and `cf unbind-service`. Binding an instance that has a syslog_drain_url starts a drain.
import { z } from 'zod'
import { createAppBinding, deleteAppBinding, recordBindingShow } from '../../../actions/service-bindings.ts'
import { notAuthorized, unprocessable } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { metadataSchema } from '../../../messages/metadata.ts'
import { presentApp } from '../../../presenters/v3/app.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentServiceCredentialBinding, presentServiceInstance } from '../../../presenters/v3/service-instance.ts'
import { appsByGuids, findApp } from '../../../queries/apps.ts'
import { findServiceInstance, listBindings, serviceInstancesByGuids } from '../../../queries/service-instances.ts'
import type { Db } from '../../../store/store.ts'
import { noContent, ok, type AuthedContext, type Route, route } from '../../route.ts'
import { visibleBinding } from '../visible.ts'
import { actionContext, commonList, requestOf } from './common.ts'

const ref = z.object({ data: z.object({ guid: z.string() }) })
const createSchema = z
  .object({
    type: z.enum(['app', 'key'], { error: "Type must be one of 'app', 'key'" }),
    name: z.string().nullable().optional(),
    relationships: z.object({ service_instance: ref, app: ref.optional() }),
    parameters: z.record(z.string(), z.unknown()).optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()

const listSchema = listQuery({
  filters: ['guids', 'names', 'app_guids', 'app_names', 'service_instance_guids', 'service_instance_names', 'service_plan_guids', 'service_plan_names'],
  orderBy: ['created_at', 'updated_at', 'name'],
  labels: true,
  include: ['app', 'service_instance'],
  extra: { type: z.enum(['app', 'key'], { error: "Type must be one of 'app', 'key'" }).optional() },
})

export interface BindingRouteDeps {
  readonly db: Db
  drainsChanged(): Promise<void>
}

export function serviceCredentialBindingRoutes(deps: BindingRouteDeps): Route[] {
  const { db } = deps

  const visible = (ctx: AuthedContext) => visibleBinding(db, ctx)

  return [
    route({
      method: 'POST',
      url: '/v3/service_credential_bindings',
      summary: 'Bind an app to a user-provided service instance (201; space developer)',
      tag: 'Service credential bindings',
      auth: 'write',
      body: createSchema,
      async handler(ctx) {
        const body = ctx.body
        const siGuid = body.relationships.service_instance.data.guid
        const si = await findServiceInstance(db, siGuid)
        if (!si || !ctx.perms.canReadSpace(si.space_guid, si.organization_guid)) throw unprocessable(`The service instance could not be found: ${siGuid}`)
        if (body.type === 'key') throw unprocessable("Service credential bindings of type 'key' are not supported for user-provided service instances.")
        const appGuid = body.relationships.app?.data.guid
        if (!appGuid) throw unprocessable("Relationships app can't be blank")
        const target = await findApp(db, appGuid)
        if (!target || !ctx.perms.canReadSpace(target.space.guid, target.space.organization_guid)) throw unprocessable(`The app could not be found: ${appGuid}`)
        if (!ctx.perms.canWriteToSpace(target.space.guid)) throw notAuthorized()
        if (si.space_guid !== target.space.guid) throw unprocessable('The service instance and the app are in different spaces')
        if (body.parameters !== undefined) throw unprocessable('Binding parameters are not supported for user-provided service instances')
        const { organization_guid: siOrg, ...siRow } = si
        void siOrg
        const binding = await createAppBinding(actionContext(db, ctx), target.app, target.space.organization_guid, siRow, body, requestOf(ctx.body))
        if (si.syslog_drain_url) await deps.drainsChanged()
        return ok(presentServiceCredentialBinding(binding, ctx.baseUrl), 201)
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_credential_bindings',
      summary: 'List service credential bindings',
      tag: 'Service credential bindings',
      auth: 'read',
      query: listSchema,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const none = q.type === 'key' || !!q.service_plan_guids || !!q.service_plan_names
        const page = none
          ? { rows: [], total: 0 }
          : await listBindings(
              db,
              ctx.perms,
              {
                guids: q.guids,
                names: q.names,
                appGuids: q.app_guids,
                appNames: q.app_names,
                serviceInstanceGuids: q.service_instance_guids,
                serviceInstanceNames: q.service_instance_names,
                type: q.type,
                labels: c.labels,
                createdAts: c.createdAts,
                updatedAts: c.updatedAts,
              },
              c.paging,
              c.order,
            )
        const included: Record<string, unknown[]> = {}
        if (q.include?.includes('app')) {
          const apps = await appsByGuids(db, page.rows.map((b) => b.app_guid))
          included.apps = apps.map((a) => presentApp(a, ctx.baseUrl))
        }
        if (q.include?.includes('service_instance')) {
          const sis = await serviceInstancesByGuids(db, page.rows.map((b) => b.service_instance_guid))
          included.service_instances = sis.map((si) => presentServiceInstance(si, ctx.baseUrl))
        }
        const extra = Object.keys(included).length ? { included } : {}
        return ok(presentList(ctx, c.paging, page.total, page.rows.map((b) => presentServiceCredentialBinding(b, ctx.baseUrl)), extra))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_credential_bindings/:guid',
      summary: 'Get a service credential binding',
      tag: 'Service credential bindings',
      auth: 'read',
      async handler(ctx) {
        const { binding } = await visible(ctx)
        return ok(presentServiceCredentialBinding(binding, ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/service_credential_bindings/:guid/details',
      summary: "A binding's credentials and syslog_drain_url (admin, admin read-only, space developer; recorded)",
      tag: 'Service credential bindings',
      auth: 'read',
      async handler(ctx) {
        const { binding, spaceGuid, orgGuid } = await visible(ctx)
        if (!ctx.perms.canReadSecretsInSpace(spaceGuid)) throw notAuthorized()
        const si = (await findServiceInstance(db, binding.service_instance_guid))!
        await recordBindingShow(actionContext(db, ctx), binding, spaceGuid, orgGuid)
        return ok({ credentials: si.credentials ?? {}, syslog_drain_url: si.syslog_drain_url, volume_mounts: [] })
      },
    }),
    route({
      method: 'DELETE',
      url: '/v3/service_credential_bindings/:guid',
      summary: 'Unbind (204; space developer)',
      tag: 'Service credential bindings',
      auth: 'write',
      async handler(ctx) {
        const { binding, spaceGuid, orgGuid } = await visible(ctx)
        if (!ctx.perms.canWriteToSpace(spaceGuid)) throw notAuthorized()
        await deleteAppBinding(actionContext(db, ctx), binding, spaceGuid, orgGuid)
        await deps.drainsChanged()
        return noContent()
      },
    }),
  ]
}

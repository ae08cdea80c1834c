// Read-only v2 lists of the resources old scripts read (`cf curl /v2/organizations`, …), rendered
// from the same rows and permission scopes as v3, with the v2 envelope, the `q` filters CC
// supports for them (`:` and ` IN `), `results-per-page`, `page` and `order-direction`. Writes
// stay v3-only (docs/api-version.md).
import { webProcessesOf } from '../../../queries/processes.ts'
import { apiError, type ApiError } from '../../../errors/api-error.ts'
import type { Paging } from '../../../messages/list-query.ts'
import { detectedProcessTypes, findApp, listApps } from '../../../queries/apps.ts'
import { findOrganization, listOrganizations } from '../../../queries/organizations.ts'
import { platformSince } from '../../../queries/platform.ts'
import { findServiceInstance, listServiceInstances } from '../../../queries/service-instances.ts'
import { findSpace, listSpaces } from '../../../queries/spaces.ts'
import { findVisibleUser, listUsers } from '../../../queries/users.ts'
import { STACK } from '../../../platform/fixed.ts'
import {
  presentV2App,
  presentV2Organization,
  presentV2Space,
  presentV2Stack,
  presentV2User,
  presentV2UserProvidedServiceInstance,
} from '../../../presenters/v2/resources.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type AuthedContext, type Route, route } from '../../route.ts'
import { qSegments, qValues, v2Paging, type V2Paging } from '../../../messages/v2-query.ts'
import { v2Envelope } from '../../../presenters/v2/pagination.ts'

/** `q=name:x`, `q=space_guid IN a,b`: the allowed attributes, each to its values. */
function parseQ(raw: AuthedContext['rawQuery'], allowed: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const segment of qSegments(qValues(raw))) {
    const m = /(:| IN |>=|<=|<|>)/.exec(segment)
    const key = m ? segment.slice(0, m.index) : segment
    if (!m || !allowed.includes(key)) throw apiError('BadQueryParameter', key)
    if (m[1] !== ':' && m[1] !== ' IN ') throw apiError('BadQueryParameter', `${key} supports only ':' and ' IN '`)
    const value = segment.slice(m.index + m[1].length)
    const values = m[1] === ' IN ' ? value.split(',').filter((v) => v !== '') : [value]
    out.set(key, [...(out.get(key) ?? []), ...values])
  }
  return out
}

const pagingOf = (p: V2Paging): Paging => ({ page: p.page, perPage: p.perPage })
const orderOf = (p: V2Paging) => ({ column: 'created_at', direction: p.direction })

export function v2ResourceRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  const list = (url: string, summary: string, run: (ctx: AuthedContext) => Promise<unknown>): Route =>
    route({
      method: 'GET',
      url,
      summary,
      tag: 'v2 (read-only)',
      auth: 'read',
      errors: 'v2',
      handler: async (ctx) => ok(await run(ctx)),
    })
  const one = (url: string, summary: string, run: (ctx: AuthedContext, guid: string) => Promise<unknown>): Route => list(url, summary, (ctx) => run(ctx, ctx.params.guid!))
  /** v2 tells an invisible resource from a missing one: 403, not 404. */
  const visible = <T>(row: T | undefined, canRead: (row: T) => boolean, missing: ApiError): T => {
    if (!row) throw missing
    if (!canRead(row)) throw apiError('NotAuthorized')
    return row
  }

  async function appsPage(ctx: AuthedContext, rows: Awaited<ReturnType<typeof listApps>>['rows']) {
    const guids = rows.map((a) => a.guid)
    const webs = await webProcessesOf(db, guids)
    const detected = await detectedProcessTypes(db, guids)
    return rows.map((a) =>
      presentV2App(
        a,
        webs.find((w) => w.app_guid === a.guid),
        detected.get(a.guid),
        ctx.perms.canReadSecretsInSpace(a.space_guid),
      ),
    )
  }

  return [
    list('/v2/organizations', 'List organizations (v2, read-only; q: name)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      const q = parseQ(ctx.rawQuery, ['name'])
      const page = await listOrganizations(db, ctx.perms.readableOrgs(), { names: q.get('name') }, pagingOf(paging), orderOf(paging))
      return v2Envelope(ctx.path, ctx.rawQuery, paging, page.total, page.rows.map(presentV2Organization))
    }),
    one('/v2/organizations/:guid', 'Get an organization (v2)', async (ctx, guid) =>
      presentV2Organization(visible(await findOrganization(db, guid), (o) => ctx.perms.canReadOrg(o.guid), apiError('OrganizationNotFound', guid))),
    ),
    list('/v2/spaces', 'List spaces (v2, read-only; q: name, organization_guid)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      const q = parseQ(ctx.rawQuery, ['name', 'organization_guid'])
      const page = await listSpaces(db, ctx.perms, { names: q.get('name'), organizationGuids: q.get('organization_guid') }, pagingOf(paging), orderOf(paging))
      return v2Envelope(ctx.path, ctx.rawQuery, paging, page.total, page.rows.map(presentV2Space))
    }),
    one('/v2/spaces/:guid', 'Get a space (v2)', async (ctx, guid) =>
      presentV2Space(visible(await findSpace(db, guid), (s) => ctx.perms.canReadSpace(s.guid, s.organization_guid), apiError('SpaceNotFound', guid))),
    ),
    list('/v2/apps', 'List apps (v2, read-only; q: name, space_guid, organization_guid, stack_guid)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      const q = parseQ(ctx.rawQuery, ['name', 'space_guid', 'organization_guid', 'stack_guid'])
      const stacks = q.get('stack_guid')
      const page =
        stacks && !stacks.includes(STACK.guid)
          ? { rows: [], total: 0 }
          : await listApps(db, ctx.perms, { names: q.get('name'), spaceGuids: q.get('space_guid'), organizationGuids: q.get('organization_guid') }, pagingOf(paging), orderOf(paging))
      return v2Envelope(ctx.path, ctx.rawQuery, paging, page.total, await appsPage(ctx, page.rows))
    }),
    one('/v2/apps/:guid', 'Get an app (v2)', async (ctx, guid) => {
      const found = visible(await findApp(db, guid), (a) => ctx.perms.canReadSpace(a.space.guid, a.space.organization_guid), apiError('AppNotFound', guid))
      return (await appsPage(ctx, [found.app]))[0]
    }),
    list('/v2/users', 'List users (v2, read-only; admin, admin read-only, global auditor)', async (ctx) => {
      if (!ctx.perms.canReadGlobally) throw apiError('NotAuthorized')
      const paging = v2Paging(ctx.rawQuery, ['id'])
      parseQ(ctx.rawQuery, [])
      const page = await listUsers(db, ctx.perms, {}, pagingOf(paging), orderOf(paging))
      return v2Envelope(ctx.path, ctx.rawQuery, paging, page.total, page.rows.map(presentV2User))
    }),
    one('/v2/users/:guid', 'Get a user (v2)', async (ctx, guid) => {
      const user = await findVisibleUser(db, ctx.perms, guid)
      if (!user) throw apiError('UserNotFound', guid)
      return presentV2User(user)
    }),
    list('/v2/service_instances', 'List managed service instances (v2; none: only user-provided instances exist)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      parseQ(ctx.rawQuery, ['name', 'space_guid', 'organization_guid', 'service_plan_guid', 'service_binding_guid', 'gateway_name', 'service_key_guid'])
      return v2Envelope(ctx.path, ctx.rawQuery, paging, 0, [])
    }),
    one('/v2/service_instances/:guid', 'Get a managed service instance (v2; none exist)', async (_ctx, guid) => {
      throw apiError('ServiceInstanceNotFound', guid)
    }),
    list('/v2/user_provided_service_instances', 'List user-provided service instances (v2, read-only; q: name, space_guid, organization_guid)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      const q = parseQ(ctx.rawQuery, ['name', 'space_guid', 'organization_guid'])
      const page = await listServiceInstances(
        db,
        ctx.perms,
        { names: q.get('name'), spaceGuids: q.get('space_guid'), organizationGuids: q.get('organization_guid') },
        pagingOf(paging),
        orderOf(paging),
      )
      return v2Envelope(ctx.path, ctx.rawQuery, paging, page.total, page.rows.map((si) => presentV2UserProvidedServiceInstance(si, ctx.perms.canReadSecretsInSpace(si.space_guid))))
    }),
    one('/v2/user_provided_service_instances/:guid', 'Get a user-provided service instance (v2)', async (ctx, guid) => {
      const si = visible(await findServiceInstance(db, guid), (s) => ctx.perms.canReadSpace(s.space_guid, s.organization_guid), apiError('ServiceInstanceNotFound', guid))
      return presentV2UserProvidedServiceInstance(si, ctx.perms.canReadSecretsInSpace(si.space_guid))
    }),
    list('/v2/stacks', 'List stacks (v2; q: name)', async (ctx) => {
      const paging = v2Paging(ctx.rawQuery, ['id', 'name'])
      const names = parseQ(ctx.rawQuery, ['name']).get('name')
      const all = !names || names.includes(STACK.name) ? [presentV2Stack(await platformSince(db))] : []
      return v2Envelope(ctx.path, ctx.rawQuery, paging, all.length, paging.page === 1 ? all : [])
    }),
    one('/v2/stacks/:guid', 'Get a stack (v2)', async (_ctx, guid) => {
      if (guid !== STACK.guid) throw apiError('StackNotFound', guid)
      return presentV2Stack(await platformSince(db))
    }),
  ]
}

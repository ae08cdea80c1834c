import { z } from 'zod'
import { recordDropletDownload } from '../../../actions/events/app.ts'
import { setCurrentDroplet } from '../../../actions/droplet-set-current.ts'
import { blobStream, findBlob } from '../../../bits/blobs.ts'
import { notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import { listQuery } from '../../../messages/list-query.ts'
import { buildDetailsOf, type BuildLifecycle } from '../../../queries/builds.ts'
import { appLifecycles } from '../../../queries/apps.ts'
import { buildsOfDroplets, dropletRow, findDroplet, listDroplets, type DropletFilters } from '../../../queries/droplets.ts'
import { findPackage } from '../../../queries/packages.ts'
import { PRIVATE_DATA_HIDDEN, PRIVATE_DATA_HIDDEN_IN_LISTS } from '../../../audit/redaction.ts'
import { presentCurrentDropletRelationship, presentDroplet } from '../../../presenters/v3/droplet.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import type { DropletRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import { visibleApp } from '../visible.ts'
import { ok, type AuthedContext, type Route, route } from '../../route.ts'
import { requireSpaceDeveloper } from './apps.ts'
import { actionContext, commonList } from './common.ts'


const listSchema = listQuery({
  filters: ['guids', 'states', 'app_guids', 'space_guids', 'organization_guids'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
})
const appListSchema = listQuery({
  filters: ['guids', 'states'],
  orderBy: ['created_at', 'updated_at'],
  labels: true,
  extra: { current: z.enum(['true', 'false'], { error: "Current must be 'true' or 'false'" }).optional() },
})
const packageListSchema = listQuery({ filters: ['guids', 'states'], orderBy: ['created_at', 'updated_at'], labels: true })

const setCurrentSchema = z
  .object({ data: z.object({ guid: z.string({ error: 'Guid must be a string' }) }).nullable() }, { error: 'Data must be an object' })
  .strict()

export function dropletRoutes(deps: { readonly db: Db }): Route[] {
  const { db } = deps

  /** A droplet's lifecycle is its build's (what it was staged with); the app's when no build made it. */
  async function lifecyclesOf(rows: readonly DropletRow[]): Promise<Map<string, BuildLifecycle>> {
    const builds = await buildsOfDroplets(db, rows.map((d) => d.guid))
    const appLifecycle = (await appLifecycles(db, rows.map((d) => d.app_guid))) as Map<string, BuildLifecycle>
    return new Map(
      rows.map((d) => {
        const fallback = appLifecycle.get(d.app_guid)!
        const build = builds.get(d.guid)
        return [d.guid, build ? buildDetailsOf(build, fallback).lifecycle : fallback]
      }),
    )
  }

  async function presentOne(d: DropletRow, ctx: AuthedContext, spaceGuid: string) {
    const lifecycle = (await lifecyclesOf([d])).get(d.guid)!
    return presentDroplet(d, lifecycle, ctx.baseUrl, ctx.perms.canReadSecretsInSpace(spaceGuid) ? undefined : PRIVATE_DATA_HIDDEN)
  }

  async function listPage(ctx: AuthedContext, q: Record<string, unknown>, filters: DropletFilters) {
    const c = commonList(q)
    const page = await listDroplets(
      db,
      ctx.perms,
      { ...filters, labels: c.labels, createdAts: c.createdAts, updatedAts: c.updatedAts },
      c.paging,
      c.order,
    )
    const lifecycles = await lifecyclesOf(page.rows)
    const resources = page.rows.map((d) => presentDroplet(d, lifecycles.get(d.guid)!, ctx.baseUrl, PRIVATE_DATA_HIDDEN_IN_LISTS))
    return ok(presentList(ctx, c.paging, page.total, resources))
  }

  return [
    route({
      method: 'GET',
      url: '/v3/droplets/:guid',
      summary: 'Get a droplet',
      tag: 'Droplets',
      auth: 'read',
      async handler(ctx) {
        const found = await findDroplet(db, ctx.params.guid!)
        if (!found || !ctx.perms.canReadSpace(found.space.guid, found.space.organization_guid)) throw notFound('Droplet')
        return ok(await presentOne(found.droplet, ctx, found.space.guid))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/droplets',
      summary: 'List droplets',
      tag: 'Droplets',
      auth: 'read',
      query: listSchema,
      handler(ctx) {
        const q = ctx.query
        return listPage(ctx, q, {
          guids: q.guids,
          states: q.states,
          appGuids: q.app_guids,
          spaceGuids: q.space_guids,
          organizationGuids: q.organization_guids,
        })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/droplets',
      summary: "List an app's droplets (current=true: only the current one)",
      tag: 'Droplets',
      auth: 'read',
      query: appListSchema,
      async handler(ctx) {
        const owner = await visibleApp(db, ctx)
        const q = ctx.query
        return listPage(ctx, q, {
          guids: q.guids,
          states: q.states,
          appGuids: [owner.app.guid],
          ...(q.current === 'true' ? { currentOfApp: owner.app.guid } : {}),
        })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/packages/:guid/droplets',
      summary: 'List the droplets staged from a package',
      tag: 'Droplets',
      auth: 'read',
      query: packageListSchema,
      async handler(ctx) {
        const source = await findPackage(db, ctx.params.guid!)
        if (!source || !ctx.perms.canReadSpace(source.space.guid, source.space.organization_guid)) throw notFound('Package')
        const q = ctx.query
        return listPage(ctx, q, { guids: q.guids, states: q.states, packageGuids: [source.pkg.guid] })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/droplets/current',
      summary: "Get an app's current droplet (404 Droplet not found when none)",
      tag: 'Droplets',
      auth: 'read',
      async handler(ctx) {
        const owner = await visibleApp(db, ctx)
        const droplet = owner.app.current_droplet_guid
          ? await dropletRow(db, owner.app.current_droplet_guid)
          : undefined
        if (!droplet) throw notFound('Droplet')
        return ok(await presentOne(droplet, ctx, owner.space.guid))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/apps/:guid/relationships/current_droplet',
      summary: "Get the app's current-droplet relationship",
      tag: 'Droplets',
      auth: 'read',
      async handler(ctx) {
        const owner = await visibleApp(db, ctx)
        const guid = owner.app.current_droplet_guid
        const exists = guid && (await dropletRow(db, guid))
        if (!guid || !exists) throw notFound('Droplet')
        return ok(presentCurrentDropletRelationship(owner.app.guid, guid, ctx.baseUrl))
      },
    }),
    route({
      method: 'PATCH',
      url: '/v3/apps/:guid/relationships/current_droplet',
      summary: "Set the app's current droplet (the app must be stopped; space developer)",
      tag: 'Droplets',
      auth: 'write',
      body: setCurrentSchema,
      async handler(ctx) {
        const b = ctx.body
        if (b.data === null) throw unprocessable('Current droplet cannot be removed. Replace it with a preferable droplet.')
        const owner = await visibleApp(db, ctx)
        requireSpaceDeveloper(ctx, owner)
        const droplet = await dropletRow(db, b.data.guid)
        const app = await setCurrentDroplet(actionContext(db, ctx), owner, droplet)
        return ok(presentCurrentDropletRelationship(app.guid, b.data.guid, ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/v3/droplets/:guid/download',
      summary: "Download a staged droplet (a zip of the package's files; those who may read the space's secrets)",
      tag: 'Droplets',
      auth: 'read',
      async handler(ctx) {
        const found = await findDroplet(db, ctx.params.guid!)
        if (!found || !ctx.perms.canReadSpace(found.space.guid, found.space.organization_guid)) throw notFound('Droplet')
        if (!ctx.perms.canReadSecretsInSpace(found.space.guid)) throw notAuthorized()
        if (found.droplet.state !== 'STAGED' || !found.droplet.blob_guid) throw unprocessable('Only staged droplets can be downloaded.')
        const blob = await findBlob(db, found.droplet.blob_guid)
        if (!blob) throw unprocessable('Only staged droplets can be downloaded.')
        await recordDropletDownload(actionContext(db, ctx), found.app, found.space.organization_guid, found.droplet.guid)
        return {
          status: 200,
          body: blobStream(db, blob.guid),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        }
      },
    }),
  ]
}

import { APP_EVENT_TYPES } from '../../audit/event-types.ts'
import { eventInsert, recordEvent, type EventInput } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { AppRow } from '../../store/schema.ts'
import type { Db } from '../../store/store.ts'
import type { ActionContext } from '../context.ts'

type App = Pick<AppRow, 'guid' | 'name' | 'space_guid'>

/** An event whose actee is the app, scoped to the app's space and org (CC's AppEventRepository). */
export function recordAppEvent(tx: Db, app: App, orgGuid: string, actor: Actor, type: string, metadata: Record<string, unknown>) {
  return recordEvent(tx, appEvent(app, orgGuid, actor, type, metadata))
}

/** The same event as part of a statement that writes the state change too (audit/ledger.ts, eventInsert). */
export function appEventInsert(app: App, orgGuid: string, actor: Actor, type: string, metadata: Record<string, unknown>, after: string) {
  return eventInsert(appEvent(app, orgGuid, actor, type, metadata), after).insert
}

function appEvent(app: App, orgGuid: string, actor: Actor, type: string, metadata: Record<string, unknown>): EventInput {
  return { type, actor, actee: { guid: app.guid, type: 'app', name: app.name }, metadata, spaceGuid: app.space_guid, organizationGuid: orgGuid }
}

/** A droplet download is recorded (`audit.app.droplet.download`) before its bits are sent. */
export async function recordDropletDownload(ctx: ActionContext, app: App, orgGuid: string, dropletGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => recordAppEvent(tx, app, orgGuid, ctx.actor, APP_EVENT_TYPES.dropletDownload, { droplet_guid: dropletGuid }))
}

/** A package download is recorded (`audit.app.package.download`) before its bits are sent. */
export async function recordPackageDownload(ctx: ActionContext, app: App, orgGuid: string, packageGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => recordAppEvent(tx, app, orgGuid, ctx.actor, APP_EVENT_TYPES.packageDownload, { package_guid: packageGuid }))
}

import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import type { AppRow } from '../store/schema.ts'
import { recordAppEvent } from './app-events.ts'
import type { ActionContext } from './context.ts'

type App = Pick<AppRow, 'guid' | 'name' | 'space_guid'>

/** A droplet download is recorded (`audit.app.droplet.download`) before its bits are sent. */
export async function recordDropletDownload(ctx: ActionContext, app: App, orgGuid: string, dropletGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => recordAppEvent(tx, app, orgGuid, ctx.actor, APP_EVENT_TYPES.dropletDownload, { droplet_guid: dropletGuid }))
}

/** A package download is recorded (`audit.app.package.download`) before its bits are sent. */
export async function recordPackageDownload(ctx: ActionContext, app: App, orgGuid: string, packageGuid: string): Promise<void> {
  await ctx.db.transaction().execute((tx) => recordAppEvent(tx, app, orgGuid, ctx.actor, APP_EVENT_TYPES.packageDownload, { package_guid: packageGuid }))
}

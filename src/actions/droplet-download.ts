// Downloading a droplet's bits is recorded (CC's audit.app.droplet.download), in its own
// transaction: the bits are read before, and the answer is sent only after the event commits.
import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import type { DropletInApp } from '../queries/droplets.ts'
import { recordAppEvent } from './app-events.ts'
import type { ActionContext } from './context.ts'

export async function recordDropletDownload(ctx: ActionContext, found: DropletInApp): Promise<void> {
  await ctx.db.transaction().execute((tx) =>
    recordAppEvent(tx, found.app, found.space.organization_guid, ctx.actor, APP_EVENT_TYPES.dropletDownload, { droplet_guid: found.droplet.guid }),
  )
}

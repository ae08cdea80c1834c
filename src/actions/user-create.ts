import { unprocessable } from '../errors/api-error.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'

/** POST /v3/users registers a UAA identity with Cloud Controller. CC records no event for it. */
export async function createUser(ctx: ActionContext, guid: string, metadata: { labels: Record<string, string>; annotations: Record<string, string> }) {
  const now = new Date()
  try {
    await ctx.db
      .insertInto('users')
      .values({ guid, created_at: now, updated_at: now, labels: JSON.stringify(metadata.labels), annotations: JSON.stringify(metadata.annotations) })
      .execute()
  } catch (err) {
    if (isUniqueViolation(err)) throw unprocessable(`User with guid '${guid}' already exists.`)
    throw err
  }
}

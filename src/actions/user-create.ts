import { unprocessable } from '../errors/api-error.ts'
import { isUniqueViolation } from '../store/store.ts'
import type { ActionContext } from './context.ts'
import { newGuid } from '../store/ids.ts'

/** By UAA id, or by username and a non-`uaa` origin (CC then creates a UAA shadow user). */
export type UserIdentity = { readonly guid: string } | { readonly username: string; readonly origin: string }

const SHADOW_USER_SCOPES = ['openid', 'cloud_controller.read', 'cloud_controller.write', 'uaa.user']

/**
 * POST /v3/users registers a UAA identity with Cloud Controller. CC records no event for it. The
 * shadow UAA user and the CC user are written in one transaction, so a failure leaves neither.
 */
export async function createUser(
  ctx: ActionContext,
  who: UserIdentity,
  metadata: { labels: Record<string, string>; annotations: Record<string, string> },
): Promise<string> {
  const now = new Date()
  const guid = 'guid' in who ? who.guid : newGuid()
  try {
    await ctx.db.transaction().execute(async (tx) => {
      if (!('guid' in who)) {
        await tx
          .insertInto('uaa_users')
          .values({ id: guid, username: who.username, origin: who.origin, email: '', given_name: '', family_name: '', password_hash: null, scopes: SHADOW_USER_SCOPES, created_at: now, updated_at: now })
          .execute()
      }
      await tx
        .insertInto('users')
        .values({ guid, created_at: now, updated_at: now, labels: JSON.stringify(metadata.labels), annotations: JSON.stringify(metadata.annotations) })
        .execute()
    })
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
    if ('guid' in who) throw unprocessable(`User with guid '${guid}' already exists.`)
    throw unprocessable(`User with username '${who.username}' and origin '${who.origin}' already exists.`)
  }
  return guid
}

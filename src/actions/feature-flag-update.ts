import { recordPlatformEvent } from './events/platform.ts'
import { PLATFORM_EVENT_TYPES } from '../audit/event-types.ts'
import { findFeatureFlag, type FeatureFlag, type FeatureFlagName } from '../queries/feature-flags.ts'
import type { ActionContext } from './context.ts'

export interface FeatureFlagUpdateMessage {
  readonly enabled?: boolean
  /** null clears it; undefined keeps it. */
  readonly custom_error_message?: string | null
}

/** `PATCH /v3/feature_flags/:name` (admin): the flag row and its event in one transaction. */
export async function updateFeatureFlag(ctx: ActionContext, flag: FeatureFlag, msg: FeatureFlagUpdateMessage): Promise<FeatureFlag> {
  const enabled = msg.enabled ?? flag.enabled
  const errorMessage = msg.custom_error_message === undefined ? flag.errorMessage : msg.custom_error_message
  await ctx.db.transaction().execute(async (tx) => {
    const now = new Date()
    await tx
      .insertInto('feature_flags')
      .values({ name: flag.name, enabled, error_message: errorMessage, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ enabled, error_message: errorMessage, updated_at: now }))
      .execute()
    await recordPlatformEvent(tx, ctx.actor, { guid: flag.name, type: 'feature_flag', name: flag.name }, PLATFORM_EVENT_TYPES.featureFlagUpdate, { request: { ...msg } })
  })
  return (await findFeatureFlag(ctx.db, flag.name as FeatureFlagName))!
}

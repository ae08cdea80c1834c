import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

/** Ours (CC records none): platform-wide settings, unscoped, so only global readers see them. */
export function recordPlatformEvent(tx: Db, actor: Actor, actee: { guid: string; type: 'feature_flag' | 'environment_variable_group'; name: string }, type: string, metadata: Record<string, unknown>) {
  return recordEvent(tx, { type, actor, actee, metadata })
}

import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

/** Ours (docs/collect.md): an event about a collected foundation, unscoped (global readers only). */
export function recordFoundationEvent(tx: Db, actor: Actor, foundation: string, type: string, metadata: Record<string, unknown>) {
  return recordEvent(tx, { type, actor, actee: { guid: foundation, type: 'foundation', name: foundation }, metadata })
}

import crypto from 'node:crypto'
import { sql, type RawBuilder } from 'kysely'
import type { Actor } from '../auth/principal.ts'
import type { Db } from '../store/store.ts'

export interface EventInput {
  readonly type: string
  readonly actor: Actor
  readonly actee: { readonly guid: string; readonly type: string; readonly name: string }
  readonly metadata: Record<string, unknown>
  readonly spaceGuid?: string
  readonly organizationGuid?: string
}

/**
 * Inserts one audit event inside the caller's transaction, so it commits (or not) with the state
 * change it records. Nothing is locked: seq comes from a sequence (unique, increasing per call,
 * not in commit order) and the Merkle log's integrator makes the event a leaf once every older
 * transaction has ended (docs/decisions/0010-unlocked-appends.md).
 */
export async function recordEvent(tx: Db, input: EventInput): Promise<{ guid: string; seq: number }> {
  const { guid, insert } = eventInsert(input)
  const r = await sql<{ seq: number | string }>`${insert} returning seq`.execute(tx)
  return { guid, seq: Number(r.rows[0]!.seq) }
}

/**
 * The same insert as a statement part, for a state change that writes itself and its event in one
 * statement: with `after`, the event's row is selected from that common table expression, so
 * the event is inserted exactly when the state change wrote a row.
 */
export function eventInsert(input: EventInput, after?: string): { guid: string; insert: RawBuilder<unknown> } {
  const guid = crypto.randomUUID()
  const insert = sql`
    insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username,
      actee, actee_type, actee_name, metadata, space_guid, organization_guid)
    select ${guid}, ${new Date()}::timestamptz, ${input.type}, ${input.actor.guid}, ${input.actor.type}, ${input.actor.name},
      ${input.actor.username}, ${input.actee.guid}, ${input.actee.type}, ${input.actee.name},
      ${JSON.stringify(input.metadata)}::jsonb, ${input.spaceGuid ?? ''}, ${input.organizationGuid ?? ''}${after ? sql` from ${sql.table(after)}` : sql``}`
  return { guid, insert }
}

import crypto from 'node:crypto'
import { sql } from 'kysely'
import type { Actor } from '../auth/principal.ts'
import type { Db } from '../store/store.ts'
import { eventHash } from './chain.ts'

export interface EventInput {
  readonly type: string
  readonly actor: Actor
  readonly actee: { readonly guid: string; readonly type: string; readonly name: string }
  readonly metadata: Record<string, unknown>
  readonly spaceGuid?: string
  readonly organizationGuid?: string
}

/**
 * Appends one audit event to the hash chain inside the caller's transaction. Taking the ledger
 * head's row lock serialises appenders, so sequence numbers follow commit order; call it as the
 * last write of a transaction to keep the lock short.
 */
export async function recordEvent(tx: Db, input: EventInput): Promise<{ guid: string; seq: number }> {
  const head = await sql<{ seq: number | string; hash: string }>`
    select seq, hash from ledger_head where id = 1 for update`.execute(tx)
  const prev = head.rows[0]!
  const row = {
    seq: Number(prev.seq) + 1,
    guid: crypto.randomUUID(),
    created_at: new Date(),
    type: input.type,
    actor: input.actor.guid,
    actor_type: input.actor.type,
    actor_name: input.actor.name,
    actor_username: input.actor.username,
    actee: input.actee.guid,
    actee_type: input.actee.type,
    actee_name: input.actee.name,
    metadata: input.metadata,
    space_guid: input.spaceGuid ?? '',
    organization_guid: input.organizationGuid ?? '',
  }
  const hash = eventHash(prev.hash, row)
  await sql`
    insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username,
      actee, actee_type, actee_name, metadata, space_guid, organization_guid, prev_hash, hash)
    values (${row.seq}, ${row.guid}, ${row.created_at}, ${row.type}, ${row.actor}, ${row.actor_type},
      ${row.actor_name}, ${row.actor_username}, ${row.actee}, ${row.actee_type}, ${row.actee_name},
      ${JSON.stringify(row.metadata)}::jsonb, ${row.space_guid}, ${row.organization_guid}, ${prev.hash}, ${hash})`.execute(tx)
  await sql`update ledger_head set seq = ${row.seq}, hash = ${hash} where id = 1`.execute(tx)
  return { guid: row.guid, seq: row.seq }
}

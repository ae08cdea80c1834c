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
 * head's row lock serialises appenders, so sequence numbers follow commit order, and created_at
 * is kept non-decreasing in that order; call it as the last write of a transaction to keep the
 * lock short.
 */
export async function recordEvent(tx: Db, input: EventInput): Promise<{ guid: string; seq: number }> {
  const head = await sql<{ seq: number | string; hash: string; created_at: Date | string | null }>`
    select seq, hash, created_at from ledger_head where id = 1 for update`.execute(tx)
  const prev = head.rows[0]!
  // created_at never goes backwards along the chain (a clock stepped back, another server's
  // clock): seq order and (created_at, seq) order are then the same, which the list queries use.
  const now = new Date()
  const last = prev.created_at === null ? undefined : new Date(prev.created_at)
  const row = {
    seq: Number(prev.seq) + 1,
    guid: crypto.randomUUID(),
    created_at: last && last.getTime() > now.getTime() ? last : now,
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
  await sql`update ledger_head set seq = ${row.seq}, hash = ${hash}, created_at = ${row.created_at} where id = 1`.execute(tx)
  return { guid: row.guid, seq: row.seq }
}

import { sql, type Kysely } from 'kysely'

export const name = 'events-actor'

/** The audit-event actor filters (`actor_guids`, `actor_usernames`) read their first page off these. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index events_actor_idx on events (actor, created_at, seq);
    create index events_actor_username_idx on events (actor_username, created_at, seq);
  `.execute(db)
}

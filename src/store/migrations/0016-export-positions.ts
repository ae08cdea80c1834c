import { sql, type Kysely } from 'kysely'

export const name = 'export-positions'

/**
 * Exporters resume from a ledger log position (docs/export.md), not an event seq: seq need not
 * follow commit order, leaves do. A cursor "every event up to seq S delivered" becomes the first
 * leaf of an event after S (events up to S later in the log are sent again: at-least-once), or
 * the log's size when every leaf so far is covered. `seq` stays as the largest seq delivered.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table export_cursors add column position bigint not null default 0 check (position >= 0);
    update export_cursors c set position = coalesce(
      (select min(l.leaf_index) from ledger_leaves l where l.event_seq > c.seq),
      (select size from ledger_log where id = 1));
  `.execute(db)
}

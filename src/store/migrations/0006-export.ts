import { sql, type Kysely } from 'kysely'

export const name = 'export'

/**
 * Cursors of the audit-event exporters (docs/export.md): the last seq each one has delivered
 * and had confirmed. The syslog forwarder's row starts at 0, so enabling it ships the whole
 * ledger from the first event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table export_cursors (
      name text primary key,
      seq bigint not null check (seq >= 0),
      updated_at timestamptz not null
    );
    insert into export_cursors (name, seq, updated_at) values ('syslog', 0, now());
  `.execute(db)
}

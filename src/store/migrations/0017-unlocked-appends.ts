import { sql, type Kysely } from 'kysely'

export const name = 'unlocked-appends'

/**
 * Audited writes no longer serialise on `ledger_head` (docs/decisions/0010-unlocked-appends.md):
 *
 * - `events.seq` comes from a sequence: unique and increasing per call, with holes from rollbacks
 *   and not in commit order. New events carry no `prev_hash`/`hash`: their integrity is their
 *   leaf in the Merkle log. The chain, and `ledger_head`, end at the last event written before
 *   this migration and stay checkable for that history.
 * - Archive segments written after the chain's end are in leaf order and record their leaf
 *   range (`first_leaf`, `last_leaf`); their events are checked against the log's tiles.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create sequence events_seq_seq owned by events.seq;
    select setval('events_seq_seq',
      greatest((select coalesce(max(seq), 0) from events), (select seq from ledger_head where id = 1),
        (select coalesce(max(last_seq), 0) from ledger_archives), 1),
      (select coalesce(max(seq), 0) from events) > 0 or (select seq from ledger_head where id = 1) > 0
        or exists (select 1 from ledger_archives));
    alter table events alter column seq set default nextval('events_seq_seq');
    alter table events alter column prev_hash drop not null;
    alter table events alter column hash drop not null;
    alter table ledger_archives add column first_leaf bigint unique, add column last_leaf bigint unique;
    alter table ledger_archives alter column anchor_hash drop not null, alter column last_hash drop not null;
  `.execute(db)
}

import { sql, type Kysely } from 'kysely'

export const name = 'audit'

/**
 * The audit-events API's supporting tables (see docs/audit-events.md):
 *
 * - `event_counts` / `event_totals`: exact row counts per (organization, space, type) and in
 *   all, kept by statement-level triggers on `events`, so `total_results` for the common filters (none, types, space/org
 *   guids, role visibility) is a sum over a few counter rows instead of a scan of the table.
 * - `ledger_checkpoints`: Ed25519-signed (seq, chain hash, time) checkpoints.
 * - `ledger_archives`: one row per archived segment written by retention pruning, committed in
 *   the same transaction that deletes the segment's events.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event_counts (
      organization_guid text not null,
      space_guid text not null,
      type text not null,
      n bigint not null,
      primary key (organization_guid, space_guid, type)
    );
    create table event_totals (id int primary key check (id = 1), n bigint not null);
    create index event_counts_space_idx on event_counts (space_guid);
    create index event_counts_type_idx on event_counts (type);

    create function event_counts_add() returns trigger language plpgsql as $$
    begin
      insert into event_counts (organization_guid, space_guid, type, n)
        select organization_guid, space_guid, type, count(*) from added_events
        group by organization_guid, space_guid, type
        order by organization_guid, space_guid, type
      on conflict (organization_guid, space_guid, type) do update set n = event_counts.n + excluded.n;
      update event_totals set n = n + (select count(*) from added_events) where id = 1;
      return null;
    end $$;

    create function event_counts_remove() returns trigger language plpgsql as $$
    begin
      update event_counts c set n = c.n - d.n
        from (select organization_guid, space_guid, type, count(*) as n from removed_events
              group by organization_guid, space_guid, type) d
        where c.organization_guid = d.organization_guid and c.space_guid = d.space_guid and c.type = d.type;
      delete from event_counts c using (select distinct organization_guid, space_guid, type from removed_events) d
        where c.organization_guid = d.organization_guid and c.space_guid = d.space_guid and c.type = d.type and c.n <= 0;
      update event_totals set n = n - (select count(*) from removed_events) where id = 1;
      return null;
    end $$;

    create trigger events_count_insert after insert on events
      referencing new table as added_events for each statement execute function event_counts_add();
    create trigger events_count_delete after delete on events
      referencing old table as removed_events for each statement execute function event_counts_remove();
    -- Rows are never updated by the server; if someone does, the counters still follow the table.
    create trigger events_count_update_old after update on events
      referencing old table as removed_events for each statement execute function event_counts_remove();
    create trigger events_count_update_new after update on events
      referencing new table as added_events for each statement execute function event_counts_add();

    insert into event_counts (organization_guid, space_guid, type, n)
      select organization_guid, space_guid, type, count(*) from events group by 1, 2, 3;
    insert into event_totals (id, n) select 1, count(*) from events;

    -- The created_at of the last event: recordEvent keeps created_at non-decreasing along seq.
    alter table ledger_head add column created_at timestamptz;
    update ledger_head set created_at = (select max(created_at) from events) where id = 1;

    create table ledger_checkpoints (
      seq bigint primary key,
      hash text not null,
      signed_at timestamptz not null,
      key_id text not null,
      signature text not null
    );

    create table ledger_archives (
      first_seq bigint primary key,
      last_seq bigint not null unique,
      event_count int not null,
      file text not null,
      sha256 text not null,
      anchor_hash text not null,
      last_hash text not null,
      archived_at timestamptz not null
    );
  `.execute(db)
}

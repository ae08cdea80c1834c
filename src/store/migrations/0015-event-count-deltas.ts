import { sql, type Kysely } from 'kysely'

export const name = 'event-count-deltas'

/**
 * The event counters are no longer updated in place by every writer: the one `event_totals` row
 * was a lock every audited write held until its commit. The statement triggers now insert
 * signed deltas into `event_count_deltas`, which writers only append to, and the leader folds
 * them into `event_counts`, `event_totals` and the per-minute `event_minutes`
 * (src/audit/event-counts.ts). A count reads the folded rows plus the pending deltas in one
 * statement, so it stays exact. `event_minutes` (events per minute since the epoch, UTC) counts
 * time windows without relying on seq order (docs/audit-events.md, "Counting").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event_count_deltas (
      organization_guid text not null,
      space_guid text not null,
      type text not null,
      minute bigint not null,
      n bigint not null
    );

    create table event_minutes (minute bigint primary key, n bigint not null);
    insert into event_minutes (minute, n)
      select floor(extract(epoch from created_at) / 60)::bigint, count(*) from events group by 1;

    create or replace function event_counts_add() returns trigger language plpgsql as $$
    begin
      insert into event_count_deltas (organization_guid, space_guid, type, minute, n)
        select organization_guid, space_guid, type, floor(extract(epoch from created_at) / 60)::bigint, count(*) from added_events group by 1, 2, 3, 4;
      return null;
    end $$;

    create or replace function event_counts_remove() returns trigger language plpgsql as $$
    begin
      insert into event_count_deltas (organization_guid, space_guid, type, minute, n)
        select organization_guid, space_guid, type, floor(extract(epoch from created_at) / 60)::bigint, -count(*) from removed_events group by 1, 2, 3, 4;
      return null;
    end $$;
  `.execute(db)
}

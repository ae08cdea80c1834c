import { sql, type Kysely } from 'kysely'

export const name = 'ledger-log'

/**
 * The verifiable ledger (docs/ledger.md, docs/decisions/0008):
 *
 * - `events.xid`: the inserting transaction's id, so the integrator can take only rows whose
 *   transaction finished (below the oldest running one); null for events older than this
 *   migration, which become the first leaves in seq order.
 * - `ledger_log`: the integrated tree size and the integrator's cursor.
 * - `ledger_leaves`: leaf index → the event (or task run record) it is.
 * - `ledger_tiles`: C2SP tiles, the latest width of each; a trigger keeps them append-only.
 * - `ledger_log_checkpoints`: signed checkpoints (signed notes), strictly growing in size;
 *   `ledger_log_keys`: every log key that signed, for rotation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table events add column xid xid8;
    alter table events alter column xid set default pg_current_xact_id();
    create index events_xid_idx on events (xid, seq);
    create index events_legacy_idx on events (seq) where xid is null;

    create table ledger_log (
      id int primary key check (id = 1),
      size bigint not null,
      legacy_seq bigint not null,
      cursor_xid xid8 not null,
      cursor_seq bigint not null,
      task_cursor_xid xid8 not null default '0',
      task_cursor_id bigint not null default 0
    );
    insert into ledger_log (id, size, legacy_seq, cursor_xid, cursor_seq) values (1, 0, 0, '0', 0);

    -- One record per finished task run, written in the transaction that ends the task; its
    -- entry bytes (src/ledger/task-leaf.ts) are fixed at that moment.
    create table ledger_task_runs (
      id bigserial primary key,
      task_guid text not null unique,
      entry bytea not null,
      xid xid8 not null default pg_current_xact_id()
    );
    create index ledger_task_runs_xid_idx on ledger_task_runs (xid, id);

    create table ledger_leaves (
      leaf_index bigint primary key,
      event_seq bigint unique,
      task_guid text unique,
      check ((event_seq is null) <> (task_guid is null))
    );

    create table ledger_tiles (
      level int not null,
      idx bigint not null,
      width int not null check (width between 1 and 256),
      hashes bytea not null check (length(hashes) = width * 32),
      primary key (level, idx)
    );
    create function ledger_tiles_append_only() returns trigger language plpgsql as $$
    begin
      if new.width < old.width or substring(new.hashes from 1 for length(old.hashes)) <> old.hashes then
        raise exception 'ledger tile %/% may only grow', old.level, old.idx;
      end if;
      return new;
    end $$;
    create trigger ledger_tiles_append_only before update on ledger_tiles
      for each row execute function ledger_tiles_append_only();

    create table ledger_log_keys (
      vkey text primary key,
      first_used_at timestamptz not null
    );

    create table ledger_log_checkpoints (
      size bigint primary key,
      root bytea not null,
      note text not null,
      vkey text not null references ledger_log_keys (vkey),
      signed_at timestamptz not null,
      cosignatures text not null default ''
    );
    -- Never two inconsistent checkpoints: each one is for a larger tree than the last, no larger
    -- than what is integrated; the tiles it was computed from can only grow.
    create function ledger_checkpoints_grow() returns trigger language plpgsql as $$
    declare last_size bigint; log_size bigint;
    begin
      select max(size) into last_size from ledger_log_checkpoints;
      select size into log_size from ledger_log where id = 1;
      if new.size <= coalesce(last_size, -1) or new.size > log_size then
        raise exception 'checkpoint size % must exceed % and not exceed %', new.size, last_size, log_size;
      end if;
      return new;
    end $$;
    create trigger ledger_checkpoints_grow before insert on ledger_log_checkpoints
      for each row execute function ledger_checkpoints_grow();
    create function ledger_checkpoints_frozen() returns trigger language plpgsql as $$
    begin
      if new.size <> old.size or new.root <> old.root or new.note <> old.note then
        raise exception 'a signed checkpoint cannot change';
      end if;
      return new;
    end $$;
    create trigger ledger_checkpoints_frozen before update on ledger_log_checkpoints
      for each row execute function ledger_checkpoints_frozen();
  `.execute(db)
}

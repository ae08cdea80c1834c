import { sql, type Kysely } from 'kysely'

export const name = 'collect'

/**
 * The collector for existing Cloud Foundry foundations (docs/collect.md):
 *
 * - `collected_events`: every audit event read from a foundation's `/v3/audit_events`, exactly as
 *   CC returned it (`resource`), with its log entry bytes fixed at insert time; (foundation, guid)
 *   is the de-duplication key. The integrator appends them as leaves like task runs.
 * - `collect_cursors`: per foundation, the newest `created_at` read and the tasks cursor.
 * - `collected_tasks`: task runs being followed on the foundation until they end; once ended,
 *   the run is a `tasks` row with `foundation` set (the trail reads it like a local one).
 * - `collected_unattributed`: drain lines that could not be given to one run (ambiguous or unknown).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tasks add column foundation text;
    create index tasks_foundation_idx on tasks (foundation, created_at) where foundation is not null;

    create table collected_events (
      id bigserial primary key,
      foundation text not null,
      guid text not null,
      created_at timestamptz not null,
      type text not null,
      actee text not null,
      space_guid text not null default '',
      organization_guid text not null default '',
      task_guid text,
      resource jsonb not null,
      entry bytea not null,
      collected_at timestamptz not null default now(),
      xid xid8 not null default pg_current_xact_id(),
      unique (foundation, guid)
    );
    create index collected_events_xid_idx on collected_events (xid, id);
    create index collected_events_created_idx on collected_events (foundation, created_at, id);
    create index collected_events_task_idx on collected_events (task_guid, created_at) where task_guid is not null;

    create table collect_cursors (
      foundation text primary key,
      events_after timestamptz,
      tasks_after timestamptz,
      rescanned_at timestamptz,
      updated_at timestamptz not null
    );

    create table collected_tasks (
      foundation text not null,
      guid text not null,
      app_guid text not null,
      name text not null,
      state text not null,
      resource jsonb not null,
      first_seen_at timestamptz not null,
      ended_at timestamptz,
      recorded boolean not null default false,
      primary key (foundation, guid)
    );
    create index collected_tasks_open_idx on collected_tasks (foundation) where not recorded;
    create index collected_tasks_app_idx on collected_tasks (app_guid, name);

    create table collected_unattributed (
      id bigserial primary key,
      received_at timestamptz not null default now(),
      app_guid text not null,
      source_type text not null,
      instance_id text not null,
      line_timestamp timestamptz not null,
      reason text not null,
      candidates text[] not null default '{}',
      line text not null
    );
    create index collected_unattributed_app_idx on collected_unattributed (app_guid, line_timestamp);

    alter table ledger_leaves add column collected_event_id bigint unique;
    alter table ledger_leaves drop constraint ledger_leaves_check;
    alter table ledger_leaves add constraint ledger_leaves_one_record check (num_nonnulls(event_seq, task_guid, collected_event_id) = 1);
    alter table ledger_log add column collected_cursor_xid xid8 not null default '0';
    alter table ledger_log add column collected_cursor_id bigint not null default 0;
  `.execute(db)
}

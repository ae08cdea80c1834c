import { sql, type Kysely } from 'kysely'

export const name = 'platform'

/**
 * What `cf feature-flags`, the environment variable groups, the ssh switches and
 * `/v3/app_usage_events` keep. Feature flags hold only the flags an admin has set; the others
 * take CC's defaults (src/platform/feature-flags.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table feature_flags (
      name text primary key,
      enabled boolean not null,
      error_message text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create table environment_variable_groups (
      name text primary key,
      guid text not null unique,
      var jsonb not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    insert into environment_variable_groups (name, guid) values
      ('running', gen_random_uuid()::text), ('staging', gen_random_uuid()::text);
    alter table apps add column enable_ssh boolean not null default true;
    alter table spaces add column allow_ssh boolean not null default true;
    create table app_usage_events (
      seq bigserial primary key,
      guid text not null unique,
      created_at timestamptz not null default now(),
      state text not null,
      previous_state text,
      app_guid text not null,
      app_name text not null,
      space_guid text not null,
      space_name text not null,
      org_guid text not null,
      task_guid text,
      task_name text,
      memory_in_mb_per_instance int not null,
      instance_count int not null
    );
    create index app_usage_events_created_idx on app_usage_events (created_at, seq);
    create unique index app_usage_events_task_state_idx on app_usage_events (task_guid, state) where task_guid is not null;
  `.execute(db)
}

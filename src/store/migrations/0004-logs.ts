import { sql, type Kysely } from 'kysely'

export const name = 'logs'

/**
 * Durable task output (docs/logs.md): one summary row per task and its records in chunks of
 * many lines each; user-provided service instances and app bindings for syslog drains.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table task_outputs (
      task_guid text primary key,
      app_guid text not null,
      state text not null,
      started_at timestamptz not null,
      finished_at timestamptz,
      out_lines bigint not null default 0,
      err_lines bigint not null default 0,
      bytes bigint not null default 0,
      sha256 text,
      dropped_lines bigint not null default 0,
      stored_records bigint not null default 0,
      stored_bytes bigint not null default 0,
      chunks int not null default 0,
      truncated_records bigint not null default 0,
      truncated_bytes bigint not null default 0,
      truncation_reasons jsonb not null default '[]'
    );
    create index task_outputs_app_idx on task_outputs (app_guid, started_at);
    create index task_outputs_finished_idx on task_outputs (finished_at) where finished_at is not null;
    create table task_output_chunks (
      task_guid text not null,
      seq int not null,
      first_record bigint not null,
      records int not null,
      data bytea not null,
      primary key (task_guid, seq)
    );
    create table service_instances (
      guid text primary key,
      name text not null,
      type text not null,
      space_guid text not null references spaces (guid),
      credentials jsonb not null default '{}',
      syslog_drain_url text,
      route_service_url text,
      tags jsonb not null default '[]',
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (space_guid, name)
    );
    create index service_instances_created_at_idx on service_instances (created_at, guid);
    create table service_bindings (
      guid text primary key,
      type text not null,
      name text,
      app_guid text not null references apps (guid) on delete cascade,
      service_instance_guid text not null references service_instances (guid),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (app_guid, service_instance_guid)
    );
    create index service_bindings_created_at_idx on service_bindings (created_at, guid);
    create index service_bindings_instance_idx on service_bindings (service_instance_guid);
  `.execute(db)
}

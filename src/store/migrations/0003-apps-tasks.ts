import { sql, type Kysely } from 'kysely'

export const name = 'apps-tasks'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table apps (
      guid text primary key,
      name text not null,
      space_guid text not null references spaces (guid),
      state text not null default 'STOPPED',
      lifecycle jsonb not null,
      current_droplet_guid text,
      environment_variables jsonb not null default '{}',
      max_task_sequence_id int not null default 0,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (space_guid, name)
    );
    create index apps_created_at_idx on apps (created_at, guid);
    create index apps_name_idx on apps (name);
    create table processes (
      guid text primary key,
      app_guid text not null references apps (guid) on delete cascade,
      type text not null,
      command text,
      instances int not null,
      memory_in_mb int not null,
      disk_in_mb int not null,
      log_rate_limit_in_bytes_per_second bigint not null,
      health_check jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (app_guid, type)
    );
    create index processes_created_at_idx on processes (created_at, guid);
    create table blobs (
      guid text primary key,
      sha256 text not null,
      size bigint not null,
      data bytea not null,
      created_at timestamptz not null
    );
    create table packages (
      guid text primary key,
      app_guid text not null references apps (guid) on delete cascade,
      type text not null,
      state text not null,
      blob_guid text references blobs (guid),
      sha256 text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}'
    );
    create index packages_app_idx on packages (app_guid, created_at);
    create index packages_created_at_idx on packages (created_at, guid);
    create table droplets (
      guid text primary key,
      app_guid text not null references apps (guid) on delete cascade,
      package_guid text,
      state text not null,
      blob_guid text references blobs (guid),
      sha256 text,
      process_types jsonb not null default '{}',
      execution_metadata text not null default '',
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}'
    );
    create index droplets_app_idx on droplets (app_guid, created_at);
    create index droplets_created_at_idx on droplets (created_at, guid);
    create table builds (
      guid text primary key,
      app_guid text not null references apps (guid) on delete cascade,
      package_guid text not null,
      droplet_guid text,
      state text not null,
      error text,
      created_by jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}'
    );
    create index builds_app_idx on builds (app_guid, created_at);
    create index builds_created_at_idx on builds (created_at, guid);
    create table tasks (
      guid text primary key,
      app_guid text not null,
      space_guid text not null,
      organization_guid text not null,
      sequence_id int not null,
      name text not null,
      command text not null,
      state text not null,
      memory_in_mb int not null,
      disk_in_mb int not null,
      log_rate_limit_in_bytes_per_second bigint not null,
      droplet_guid text not null,
      failure_reason text,
      exit_status int,
      started_at timestamptz,
      finished_at timestamptz,
      created_by jsonb not null,
      target_names jsonb not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (app_guid, sequence_id)
    );
    create index tasks_created_at_idx on tasks (created_at, guid);
    create index tasks_app_idx on tasks (app_guid, created_at);
    create index tasks_space_idx on tasks (space_guid, created_at);
    create index tasks_org_idx on tasks (organization_guid, created_at);
    create index tasks_active_idx on tasks (state, created_at) where state in ('PENDING', 'RUNNING', 'CANCELING');
    create table organization_quotas (
      guid text primary key,
      name text not null unique,
      total_memory_in_mb int,
      per_process_memory_in_mb int,
      app_task_limit int,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create table space_quotas (
      guid text primary key,
      name text not null,
      organization_guid text not null references organizations (guid),
      total_memory_in_mb int,
      per_process_memory_in_mb int,
      app_task_limit int,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (organization_guid, name)
    );
    alter table organizations add column quota_guid text references organization_quotas (guid);
    alter table spaces add column quota_guid text references space_quotas (guid);
  `.execute(db)
}

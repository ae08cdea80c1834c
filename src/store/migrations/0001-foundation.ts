import { sql, type Kysely } from 'kysely'

export const name = 'foundation'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table uaa_users (
      id text primary key,
      username text not null,
      origin text not null default 'uaa',
      email text not null default '',
      given_name text not null default '',
      family_name text not null default '',
      password_hash text,
      scopes text[] not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (username, origin)
    );
    create table oauth_clients (
      client_id text primary key,
      secret_hash text not null,
      authorities text[] not null,
      grant_types text[] not null,
      created_at timestamptz not null
    );
    create table refresh_tokens (
      id text primary key,
      token_hash text not null unique,
      user_id text not null,
      client_id text not null,
      scopes text[] not null,
      expires_at timestamptz not null,
      revoked_at timestamptz,
      created_at timestamptz not null
    );
    create index refresh_tokens_user_idx on refresh_tokens (user_id);
    create table signing_keys (
      kid text primary key,
      algorithm text not null,
      private_pem text not null,
      created_at timestamptz not null
    );
    create table users (
      guid text primary key,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}'
    );
    create index users_created_at_idx on users (created_at, guid);
    create table organizations (
      guid text primary key,
      name text not null unique,
      suspended boolean not null default false,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}'
    );
    create index organizations_created_at_idx on organizations (created_at, guid);
    create table spaces (
      guid text primary key,
      name text not null,
      organization_guid text not null references organizations (guid),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      labels jsonb not null default '{}',
      annotations jsonb not null default '{}',
      unique (organization_guid, name)
    );
    create index spaces_created_at_idx on spaces (created_at, guid);
    create index spaces_name_idx on spaces (name);
    create table roles (
      guid text primary key,
      type text not null,
      user_guid text not null references users (guid),
      organization_guid text references organizations (guid),
      space_guid text references spaces (guid),
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create unique index roles_org_unique on roles (type, user_guid, organization_guid) where space_guid is null;
    create unique index roles_space_unique on roles (type, user_guid, space_guid) where space_guid is not null;
    create index roles_user_idx on roles (user_guid);
    create index roles_org_idx on roles (organization_guid, created_at);
    create index roles_space_idx on roles (space_guid, created_at);
    create index roles_created_at_idx on roles (created_at, guid);
    create table jobs (
      guid text primary key,
      operation text not null,
      state text not null,
      resource_type text not null,
      resource_guid text not null,
      actor jsonb not null,
      errors jsonb not null default '[]',
      warnings jsonb not null default '[]',
      created_at timestamptz not null,
      updated_at timestamptz not null
    );
    create index jobs_state_idx on jobs (state) where state = 'PROCESSING';
    create table events (
      seq bigint primary key,
      guid text not null unique,
      created_at timestamptz not null,
      type text not null,
      actor text not null,
      actor_type text not null,
      actor_name text,
      actor_username text,
      actee text not null,
      actee_type text not null,
      actee_name text not null,
      metadata jsonb not null,
      space_guid text not null default '',
      organization_guid text not null default '',
      prev_hash text not null,
      hash text not null
    );
    create index events_created_at_idx on events (created_at, seq);
    create index events_actee_idx on events (actee, created_at, seq);
    create index events_space_idx on events (space_guid, created_at, seq);
    create index events_org_idx on events (organization_guid, created_at, seq);
    create index events_type_idx on events (type, created_at, seq);
    create table ledger_head (
      id int primary key check (id = 1),
      seq bigint not null,
      hash text not null
    );
    insert into ledger_head (id, seq, hash) values (1, 0, repeat('0', 64));
  `.execute(db)
}

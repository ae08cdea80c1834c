import { sql, type Kysely } from 'kysely'

export const name = 'cluster'

/**
 * Many servers on one database (docs/cluster.md): a task and a job are claimed by one server
 * instance (owner) for a lease it renews; a task's claim_token counts its claims and fences every
 * write of its owner. `launched_at` marks a claim whose process may have started, so recovery never
 * runs it again. `leases` holds the elected roles (pruner, checkpointer, forwarder, …).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table tasks add column owner text, add column lease_expires_at timestamptz,
      add column claim_token bigint not null default 0, add column launched_at timestamptz;
    create index tasks_claimable_idx on tasks (created_at, guid) where state = 'PENDING' and owner is null;
    create index tasks_owner_idx on tasks (owner) where owner is not null;
    create index tasks_lease_idx on tasks (lease_expires_at) where owner is not null;
    alter table jobs add column owner text, add column lease_expires_at timestamptz;
    create index jobs_processing_idx on jobs (lease_expires_at) where state = 'PROCESSING';
    create table leases (
      role text primary key,
      holder text not null,
      term bigint not null,
      expires_at timestamptz not null
    );
    create table cluster_keys (
      purpose text not null,
      key_id text not null,
      private_pem text,
      public_pem text not null,
      created_at timestamptz not null default now(),
      primary key (purpose, key_id)
    );
  `.execute(db)
}

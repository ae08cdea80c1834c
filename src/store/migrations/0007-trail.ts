import { sql, type Kysely } from 'kysely'

export const name = 'trail'

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_keys (
      name text primary key,
      value text not null,
      created_at timestamptz not null
    );
    alter table tasks add column command_fingerprint text;
    create index tasks_fingerprint_idx on tasks (command_fingerprint, created_at);
    create index tasks_actor_idx on tasks ((created_by ->> 'guid'), created_at);
    create index tasks_state_idx on tasks (state, created_at);
    create index events_task_guid_idx on events ((metadata ->> 'task_guid'), seq) where metadata ? 'task_guid';
  `.execute(db)
}

import { sql, type Kysely } from 'kysely'

export const name = 'quotas'

/**
 * The quota limits CC presents beyond what migration 3 stores (docs/quotas.md). NULL means
 * unlimited, as in the columns migration 3 created; paid_services_allowed defaults to true as
 * CC's does. The quota_guid indexes serve "which orgs/spaces use this quota".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table organization_quotas
      add column total_instances int,
      add column log_rate_limit_in_bytes_per_second bigint,
      add column paid_services_allowed boolean not null default true,
      add column total_service_instances int,
      add column total_service_keys int,
      add column total_routes int,
      add column total_reserved_ports int,
      add column total_domains int;
    alter table space_quotas
      add column total_instances int,
      add column log_rate_limit_in_bytes_per_second bigint,
      add column paid_services_allowed boolean not null default true,
      add column total_service_instances int,
      add column total_service_keys int,
      add column total_routes int,
      add column total_reserved_ports int;
    create index organization_quotas_created_at_idx on organization_quotas (created_at, guid);
    create index space_quotas_created_at_idx on space_quotas (created_at, guid);
    create index organizations_quota_idx on organizations (quota_guid) where quota_guid is not null;
    create index spaces_quota_idx on spaces (quota_guid) where quota_guid is not null;
  `.execute(db)
}

import { sql, type Kysely } from 'kysely'

export const name = 'blob-refs'

/** Deleting an app checks whether another package or droplet still shares a blob. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index packages_blob_idx on packages (blob_guid) where blob_guid is not null;
    create index droplets_blob_idx on droplets (blob_guid) where blob_guid is not null;
  `.execute(db)
}

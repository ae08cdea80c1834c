import { sql, type Kysely } from 'kysely'

export const name = 'blob-chunks'

/**
 * Blob bytes move to `blob_chunks`, 1 MiB per row (src/bits/blobs.ts BLOB_CHUNK_BYTES), so an
 * upload is written and read a chunk at a time: appending to one `bytea` rewrote the whole value
 * on every append and made both stores hold it whole. Existing blobs are split in place.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table blob_chunks (
      blob_guid text not null references blobs (guid) on delete cascade,
      seq int not null,
      data bytea not null,
      primary key (blob_guid, seq)
    );
    insert into blob_chunks (blob_guid, seq, data)
      select b.guid, s.seq, substring(b.data from s.seq * 1048576 + 1 for 1048576)
      from blobs b, generate_series(0, ((b.size + 1048575) / 1048576)::int - 1) as s (seq);
    alter table blobs drop column data;
  `.execute(db)
}

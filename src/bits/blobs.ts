// Package and droplet bits live in the `blobs` table (bytea), so both stores keep them durably
// and in the same transactions as their rows. Bytes travel as base64 text decoded by the
// database: the embedded store parses a text parameter an order of magnitude faster than a
// binary one, and PostgreSQL does not mind. Large values move in chunks both ways.
import crypto from 'node:crypto'
import { Readable } from 'node:stream'
import { sql } from 'kysely'
import yauzl from 'yauzl'
import { newGuid } from '../store/ids.ts'
import type { Db } from '../store/store.ts'

/**
 * Bytes per statement when writing: one statement up to the default package limit (appending
 * rewrites the whole value, so fewer is faster); the base64 text stays below V8's string limit.
 */
const WRITE_CHUNK = 256 * 1024 * 1024
/** Bytes per query when reading. */
const READ_CHUNK = 8 * 1024 * 1024

export interface BlobRef {
  readonly guid: string
  readonly sha256: string
  readonly size: number
}

export const sha256Of = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex')

/** Stores `data` as a new blob inside the caller's transaction. */
export async function insertBlob(tx: Db, data: Buffer): Promise<BlobRef> {
  const ref = { guid: newGuid(), sha256: sha256Of(data), size: data.length }
  const first = data.subarray(0, WRITE_CHUNK)
  await sql`insert into blobs (guid, sha256, size, data, created_at)
    values (${ref.guid}, ${ref.sha256}, ${ref.size}, decode(${first.toString('base64')}, 'base64'), ${new Date()})`.execute(tx)
  for (let off = WRITE_CHUNK; off < data.length; off += WRITE_CHUNK) {
    const part = data.subarray(off, off + WRITE_CHUNK)
    await sql`update blobs set data = data || decode(${part.toString('base64')}, 'base64') where guid = ${ref.guid}`.execute(tx)
  }
  return ref
}

export function findBlob(db: Db, guid: string) {
  return db.selectFrom('blobs').select(['guid', 'sha256', 'size']).where('guid', '=', guid).executeTakeFirst()
}

/** Yields a blob's bytes in order, a chunk per query. */
export async function* readBlobChunks(db: Db, guid: string): AsyncGenerator<Buffer> {
  const blob = await findBlob(db, guid)
  if (!blob) throw new Error(`blob ${guid} not found`)
  const size = Number(blob.size)
  for (let off = 0; off < size; off += READ_CHUNK) {
    const r = await sql<{ chunk: string }>`
      select encode(substring(data from ${off + 1} for ${READ_CHUNK}), 'base64') as chunk from blobs where guid = ${guid}`.execute(db)
    const chunk = r.rows[0]?.chunk
    if (chunk === undefined) throw new Error(`blob ${guid} vanished while reading`)
    yield Buffer.from(chunk, 'base64')
  }
}

/** Bytes `[start, end)` of a blob. */
export async function readBlobRange(db: Db, guid: string, start: number, end: number): Promise<Buffer> {
  const r = await sql<{ chunk: string }>`
    select encode(substring(data from ${start + 1} for ${end - start}), 'base64') as chunk from blobs where guid = ${guid}`.execute(db)
  const chunk = r.rows[0]?.chunk
  if (chunk === undefined) throw new Error(`blob ${guid} not found`)
  return Buffer.from(chunk, 'base64')
}

/**
 * Random access to a blob for yauzl, so a zip's central directory and one entry can be read
 * without fetching the whole blob.
 */
export class BlobReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly db: Db,
    private readonly guid: string,
  ) {
    super()
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const { db, guid } = this
    return Readable.from(
      (async function* () {
        for (let off = start; off < end; off += READ_CHUNK) yield await readBlobRange(db, guid, off, Math.min(end, off + READ_CHUNK))
      })(),
    )
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null)
  }
}

export async function readBlob(db: Db, guid: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of readBlobChunks(db, guid)) parts.push(c)
  return Buffer.concat(parts)
}

// Package and droplet bits live in the database, so both stores keep them durably and in the same
// transactions as their rows: `blobs` holds a blob's size and sha256, `blob_chunks` its bytes,
// BLOB_CHUNK_BYTES per row. Bytes are written and read a chunk at a time, so neither this process
// nor the database ever holds a whole blob. Each chunk is a binary parameter: PostgreSQL gets the
// bytes; the embedded store gets, for a file, only its path and range, and its worker reads them
// straight into the query it sends (pglite-wire.ts), so no copy of an upload is made on this thread.
import crypto from 'node:crypto'
import fsp from 'node:fs/promises'
import { Readable } from 'node:stream'
import { sql } from 'kysely'
import yauzl from 'yauzl'
import { newGuid } from '../store/ids.ts'
import type { FileRange } from '../store/pglite-wire.ts'
import { isEmbedded, type Db } from '../store/store.ts'

/** Bytes per `blob_chunks` row; migration 0013 split the older blobs with the same size. */
export const BLOB_CHUNK_BYTES = 1024 * 1024
/** Chunks fetched per query when reading in order. */
const CHUNKS_PER_READ = 1

export interface BlobRef {
  readonly guid: string
  readonly sha256: string
  readonly size: number
}

export const sha256Of = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex')

/** A chunk's bytes and, when they were read from a file, where (so the embedded store can read them itself). */
interface Chunk {
  readonly data: Buffer
  readonly source?: FileRange
}

/**
 * Stores the chunks as a new blob inside the caller's transaction. Every chunk but the last must
 * be exactly BLOB_CHUNK_BYTES long (a chunk's offset is its seq times that).
 */
async function insertChunks(tx: Db, chunks: AsyncIterable<Chunk> | Iterable<Chunk>): Promise<BlobRef> {
  const guid = newGuid()
  const hash = crypto.createHash('sha256')
  await sql`insert into blobs (guid, sha256, size, created_at) values (${guid}, '', 0, ${new Date()})`.execute(tx)
  let size = 0
  let seq = 0
  let short = false
  const byRange = isEmbedded(tx)
  for await (const { data, source } of chunks) {
    if (data.length === 0) continue
    if (short || data.length > BLOB_CHUNK_BYTES) throw new Error('blob chunks must be BLOB_CHUNK_BYTES long but the last')
    short = data.length < BLOB_CHUNK_BYTES
    hash.update(data)
    size += data.length
    await sql`insert into blob_chunks (blob_guid, seq, data) values (${guid}, ${seq++}, ${byRange && source ? source : data})`.execute(tx)
  }
  const sha256 = hash.digest('hex')
  await sql`update blobs set sha256 = ${sha256}, size = ${size} where guid = ${guid}`.execute(tx)
  return { guid, sha256, size }
}

function* slices(data: Buffer): Generator<Chunk> {
  for (let off = 0; off < data.length; off += BLOB_CHUNK_BYTES) yield { data: data.subarray(off, off + BLOB_CHUNK_BYTES) }
}

/**
 * Reads a file in BLOB_CHUNK_BYTES pieces into one reused buffer (allocating a fresh megabyte per
 * chunk left the allocator holding far more than the data): each chunk is valid only until the
 * consumer asks for the next, which insertChunks honours. The spool file is this process's own
 * (mode 0600, never written again), so the range the worker reads holds the bytes hashed here.
 */
async function* fileChunks(file: string): AsyncGenerator<Chunk> {
  const fh = await fsp.open(file, 'r')
  const buf = Buffer.allocUnsafe(BLOB_CHUNK_BYTES)
  try {
    for (let offset = 0; ; offset += buf.length) {
      let filled = 0
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, null)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      if (filled > 0) yield { data: buf.subarray(0, filled), source: { $file: file, offset, length: filled } }
      if (filled < buf.length) return
    }
  } finally {
    await fh.close()
  }
}

/** Stores `data` as a new blob inside the caller's transaction. */
export function insertBlob(tx: Db, data: Buffer): Promise<BlobRef> {
  return insertChunks(tx, slices(data))
}

/** Stores the file's bytes as a new blob inside the caller's transaction, a chunk at a time. */
export function insertBlobFromFile(tx: Db, file: string): Promise<BlobRef> {
  return insertChunks(tx, fileChunks(file))
}

export function findBlob(db: Db, guid: string) {
  return db.selectFrom('blobs').select(['guid', 'sha256', 'size']).where('guid', '=', guid).executeTakeFirst()
}

/** Chunks `[first, last]` of a blob, in order. */
async function chunkRange(db: Db, guid: string, first: number, last: number): Promise<Buffer[]> {
  const r = await sql<{ seq: number; chunk: string }>`
    select seq, encode(data, 'base64') as chunk from blob_chunks
    where blob_guid = ${guid} and seq >= ${first} and seq <= ${last} order by seq`.execute(db)
  if (r.rows.length !== last - first + 1) throw new Error(`blob ${guid} is missing chunks ${first}..${last}`)
  return r.rows.map((row) => Buffer.from(row.chunk, 'base64'))
}

/** Yields a blob's bytes in order, a few chunks per query. */
export async function* readBlobChunks(db: Db, guid: string): AsyncGenerator<Buffer> {
  const blob = await findBlob(db, guid)
  if (!blob) throw new Error(`blob ${guid} not found`)
  const count = Math.ceil(Number(blob.size) / BLOB_CHUNK_BYTES)
  for (let seq = 0; seq < count; seq += CHUNKS_PER_READ) {
    yield* await chunkRange(db, guid, seq, Math.min(count, seq + CHUNKS_PER_READ) - 1)
  }
}

/** A blob's bytes as a stream (downloads). */
export function blobStream(db: Db, guid: string): Readable {
  return Readable.from(readBlobChunks(db, guid), { objectMode: false })
}

/** Bytes `[start, end)` of a blob. */
export async function readBlobRange(db: Db, guid: string, start: number, end: number): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0)
  const first = Math.floor(start / BLOB_CHUNK_BYTES)
  const chunks = await chunkRange(db, guid, first, Math.floor((end - 1) / BLOB_CHUNK_BYTES))
  const from = start - first * BLOB_CHUNK_BYTES
  return Buffer.concat(chunks).subarray(from, from + end - start)
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
    const step = CHUNKS_PER_READ * BLOB_CHUNK_BYTES
    return Readable.from(
      (async function* () {
        for (let off = start; off < end; off += step) yield await readBlobRange(db, guid, off, Math.min(end, off + step))
      })(),
    )
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null)
  }
}

/** A whole blob in memory: for small blobs and tests only. */
export async function readBlob(db: Db, guid: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of readBlobChunks(db, guid)) parts.push(c)
  return Buffer.concat(parts)
}

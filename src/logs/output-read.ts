// Reading a task's stored output back: its summary row and its chunks, oldest or newest first, a
// few chunks per query (OutputStore's readers delegate here).
import type { TaskOutputRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { unpackChunk } from './output-chunks.ts'
import { decodeChunk, type OutputRecord } from './records.ts'

export function outputSummary(db: Db, taskGuid: string): Promise<TaskOutputRow | undefined> {
  return db.selectFrom('task_outputs').selectAll().where('task_guid', '=', taskGuid).executeTakeFirst()
}

/** Stored records with index ≥ `from`, oldest first, read a few chunks at a time. */
export async function* storedRecords(db: Db, taskGuid: string, from = 0): AsyncGenerator<OutputRecord[]> {
  let seq = 0
  for (;;) {
    const rows = await db
      .selectFrom('task_output_chunks')
      .select(['seq', 'first_record', 'records', 'data'])
      .where('task_guid', '=', taskGuid)
      .where('seq', '>=', seq)
      .orderBy('seq')
      .limit(4)
      .execute()
    if (!rows.length) return
    for (const r of rows) {
      seq = r.seq + 1
      if (Number(r.first_record) + r.records <= from) continue
      const recs = decodeChunk(unpackChunk(r.data), Number(r.first_record))
      yield from > Number(r.first_record) ? recs.filter((x) => x.index >= from) : recs
    }
  }
}

/** Stored chunks with seq ≥ `fromSeq`, in order, each decoded. */
export async function* storedChunksFrom(db: Db, taskGuid: string, fromSeq: number): AsyncGenerator<{ seq: number; records: OutputRecord[] }> {
  let seq = fromSeq
  for (;;) {
    const rows = await db
      .selectFrom('task_output_chunks')
      .select(['seq', 'first_record', 'data'])
      .where('task_guid', '=', taskGuid)
      .where('seq', '>=', seq)
      .orderBy('seq')
      .limit(8)
      .execute()
    if (!rows.length) return
    for (const r of rows) {
      seq = r.seq + 1
      yield { seq: r.seq, records: decodeChunk(unpackChunk(r.data), Number(r.first_record)) }
    }
  }
}

/** Stored records, newest chunk first (each chunk's records oldest first), a few chunks at a time. */
export async function* storedNewestFirst(db: Db, taskGuid: string): AsyncGenerator<OutputRecord[]> {
  let before: number | undefined
  for (;;) {
    let q = db.selectFrom('task_output_chunks').select(['seq', 'first_record', 'records', 'data']).where('task_guid', '=', taskGuid)
    if (before !== undefined) q = q.where('seq', '<', before)
    const rows = await q.orderBy('seq', 'desc').limit(4).execute()
    if (!rows.length) return
    for (const r of rows) {
      before = r.seq
      yield decodeChunk(unpackChunk(r.data), Number(r.first_record))
    }
  }
}

import { sql } from 'kysely'
import type { Db } from '../store/store.ts'

export interface CheckpointRow {
  readonly seq: number
  readonly hash: string
  readonly signed_at: string
  readonly key_id: string
  readonly signature: string
}

/** The stored hashes of the given events' predecessors (seq - 1), by seq. */
export async function hashesAt(db: Db, seqs: readonly number[]): Promise<Map<number, string | null>> {
  const wanted = seqs.filter((s) => s > 0)
  if (!wanted.length) return new Map()
  const rows = await db
    .selectFrom('events')
    .select(['seq', 'hash'])
    .where('seq', 'in', wanted)
    .execute()
  return new Map(rows.map((r) => [Number(r.seq), r.hash]))
}

/** The newest signed checkpoint, if any. */
export async function latestCheckpoint(db: Db): Promise<CheckpointRow | undefined> {
  const r = (
    await sql<{
      seq: number | string
      hash: string
      signed_at: Date | string
      key_id: string
      signature: string
    }>`
      select seq, hash, signed_at, key_id, signature from ledger_checkpoints order by seq desc limit 1`.execute(
      db,
    )
  ).rows[0]
  return (
    r && {
      seq: Number(r.seq),
      hash: r.hash,
      signed_at: new Date(r.signed_at).toISOString(),
      key_id: r.key_id,
      signature: r.signature,
    }
  )
}

/** The ledger head: where the hash chain ends (its last seq and hash; events after it are unchained, decisions/0010). */
export async function ledgerHead(db: Db): Promise<{ seq: number; hash: string }> {
  const r = (
    await sql<{
      seq: number | string
      hash: string
    }>`select seq, hash from ledger_head where id = 1`.execute(db)
  ).rows[0]
  return { seq: Number(r?.seq ?? 0), hash: r?.hash ?? '' }
}

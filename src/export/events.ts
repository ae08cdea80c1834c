// Reads of the events table in sequence order, for the NDJSON stream and the syslog forwarder.
// Every read is a keyset range on the primary key (seq), so its cost depends on the rows it
// returns, never on where in the ledger it starts.
import { sql } from 'kysely'
import type { EventScope } from '../authz/permissions.ts'
import type { EventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

/** One audit event row, as the v3 presenter takes it. */
export type ExportRow = EventRow & { readonly created_at: Date }

const COLUMNS = sql.raw(`seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
  actee_name, metadata, space_guid, organization_guid, prev_hash, hash`)

function normalise(rows: readonly Record<string, unknown>[]): ExportRow[] {
  for (const r of rows) {
    // node-postgres parses bigint to number (store.ts); PGlite may hand back a bigint or a string.
    if (typeof r.seq !== 'number') r.seq = Number(r.seq)
    if (!(r.created_at instanceof Date)) r.created_at = new Date(r.created_at as string)
  }
  return rows as unknown as ExportRow[]
}

/** The sequence number of the last committed event (0 for an empty ledger). */
export async function ledgerHead(db: Db): Promise<number> {
  const r = await sql<{ seq: number | string }>`select seq from ledger_head where id = 1`.execute(db)
  return Number(r.rows[0]?.seq ?? 0)
}

/** The oldest event still held (retention may have pruned older ones), or undefined if none. */
export async function oldestSeq(db: Db): Promise<number | undefined> {
  const r = await sql<{ seq: number | string | null }>`select min(seq) as seq from events`.execute(db)
  const v = r.rows[0]?.seq
  return v === null || v === undefined ? undefined : Number(v)
}

/** Up to `limit` events with seq > after, in order. */
export async function eventsAfter(db: Db, after: number, limit: number): Promise<ExportRow[]> {
  const r = await sql<Record<string, unknown>>`
    select ${COLUMNS} from events where seq > ${after} order by seq limit ${limit}`.execute(db)
  return normalise(r.rows)
}

/**
 * Up to `limit` events with after < seq <= upTo that the scope may see, in order. The upper
 * bound keeps a sparse scope from scanning the whole table in one query.
 */
export async function scopedEventsBetween(db: Db, after: number, upTo: number, scope: EventScope, limit: number): Promise<ExportRow[]> {
  if (scope.all) {
    const r = await sql<Record<string, unknown>>`
      select ${COLUMNS} from events where seq > ${after} and seq <= ${upTo} order by seq limit ${limit}`.execute(db)
    return normalise(r.rows)
  }
  const parts = []
  if (scope.spaces.length) parts.push(sql`space_guid in (${sql.join(scope.spaces)})`)
  if (scope.orgs.length) parts.push(sql`organization_guid in (${sql.join(scope.orgs)})`)
  if (!parts.length) return []
  const r = await sql<Record<string, unknown>>`
    select ${COLUMNS} from events
    where seq > ${after} and seq <= ${upTo} and (${sql.join(parts, sql` or `)})
    order by seq limit ${limit}`.execute(db)
  return normalise(r.rows)
}

/**
 * Checks that an export may start after `after` without a hole: the events right after it must
 * still be held. Returns a message for the caller when retention pruned some of them.
 */
export async function prunedGap(db: Db, after: number, head: number): Promise<string | undefined> {
  if (after >= head) return undefined
  const oldest = await oldestSeq(db)
  if (oldest !== undefined && oldest <= after + 1) return undefined
  const firstHeld = oldest ?? head + 1
  return `events ${after + 1} to ${firstHeld - 1} were pruned by retention (they are in the ledger archives); the oldest event held is ${oldest === undefined ? 'none' : oldest}, so resume with after=${firstHeld - 1}`
}

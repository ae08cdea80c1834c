// Reads of the audit events in ledger log order, for the NDJSON stream and the syslog forwarder.
// An exporter's cursor is a *position*: the number of log leaves it has gone past (a leaf's
// position is its index + 1, so 0 is the beginning). Leaves are appended gap-free and never move
// (docs/decisions/0008), so "every leaf after my position" can skip nothing, whatever order the
// writers' transactions committed in; `seq` need not follow commit order. Every read is a keyset
// range on ledger_leaves' primary key, joined to the events by theirs.
import { sql } from 'kysely'
import type { EventScope } from '../authz/permissions.ts'
import type { EventRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

/** One audit event row, as the v3 presenter takes it, with its position in the log. */
export type ExportRow = EventRow & { readonly created_at: Date; readonly position: number }

/**
 * One leaf after a cursor: its event, or none when the leaf is not an audit event (a task run's
 * record, a collected event) or when retention pruned the event (`pruned`).
 */
export interface ExportLeaf {
  readonly position: number
  readonly event: ExportRow | undefined
  readonly pruned: boolean
}

const COLUMNS = sql.raw(`l.leaf_index, l.event_seq, e.seq, e.guid, e.created_at, e.type, e.actor, e.actor_type, e.actor_name,
  e.actor_username, e.actee, e.actee_type, e.actee_name, e.metadata, e.space_guid, e.organization_guid, e.prev_hash, e.hash`)

function toLeaf(r: Record<string, unknown>): ExportLeaf {
  const position = Number(r.leaf_index) + 1
  if (r.seq === null || r.seq === undefined) return { position, event: undefined, pruned: r.event_seq !== null && r.event_seq !== undefined }
  const event: Record<string, unknown> = { ...r, position }
  delete event.leaf_index
  delete event.event_seq
  // node-postgres parses bigint to number (store.ts); PGlite may hand back a bigint or a string.
  event.seq = Number(r.seq)
  if (!(r.created_at instanceof Date)) event.created_at = new Date(r.created_at as string)
  return { position, pruned: false, event: event as unknown as ExportRow }
}

/** The log's size: the position of its last leaf (0 for an empty log). */
export async function logSize(db: Db): Promise<number> {
  const r = await sql<{ size: number | string }>`select size from ledger_log where id = 1`.execute(db)
  return Number(r.rows[0]?.size ?? 0)
}

/** Up to `limit` leaves after `position`, in order, each with its event when it is one. */
export async function leavesAfter(db: Db, position: number, limit: number): Promise<ExportLeaf[]> {
  const r = await sql<Record<string, unknown>>`
    select ${COLUMNS} from ledger_leaves l left join events e on e.seq = l.event_seq
    where l.leaf_index >= ${position} order by l.leaf_index limit ${limit}`.execute(db)
  return r.rows.map(toLeaf)
}

/**
 * Up to `limit` events with after < position <= upTo that the scope may see, in order. The upper
 * bound keeps a sparse scope from scanning the whole log in one query.
 */
export async function scopedEventsBetween(db: Db, after: number, upTo: number, scope: EventScope, limit: number): Promise<ExportRow[]> {
  const parts = scope.all
    ? [sql`true`]
    : [
        ...(scope.spaces.length ? [sql`e.space_guid in (${sql.join(scope.spaces)})`] : []),
        ...(scope.orgs.length ? [sql`e.organization_guid in (${sql.join(scope.orgs)})`] : []),
      ]
  if (!parts.length) return []
  const r = await sql<Record<string, unknown>>`
    select ${COLUMNS} from ledger_leaves l join events e on e.seq = l.event_seq
    where l.leaf_index >= ${after} and l.leaf_index < ${upTo} and (${sql.join(parts, sql` or `)})
    order by l.leaf_index limit ${limit}`.execute(db)
  return r.rows.map((row) => toLeaf(row).event!)
}

/**
 * The position to resume from for a consumer that holds an event `seq` as its cursor (the form
 * before positions): the first leaf of an event with a larger seq. Events up to `seq` that sit
 * later in the log are sent again (at-least-once); none after it is skipped.
 */
export async function positionAfterSeq(db: Db, seq: number): Promise<number> {
  const r = await sql<{ p: number | string | null }>`
    select coalesce((select min(leaf_index) from ledger_leaves where event_seq > ${seq}), (select size from ledger_log where id = 1)) as p`.execute(db)
  return Number(r.rows[0]?.p ?? 0)
}

/**
 * Checks that an export may start after `position` without a hole: the event right after it must
 * still be held. Returns a message for the caller when retention pruned it.
 */
export async function prunedGap(db: Db, position: number, size: number): Promise<string | undefined> {
  if (position >= size) return undefined
  const [next] = await leavesAfter(db, position, 1)
  if (!next?.pruned) return undefined
  // Just before the first event after the cursor that is still held: a scan over the pruned run only.
  const r = await sql<{ p: number | string | null }>`
    select min(l.leaf_index) as p from ledger_leaves l join events e on e.seq = l.event_seq where l.leaf_index > ${position}`.execute(db)
  const resume = r.rows[0]?.p === null || r.rows[0]?.p === undefined ? size : Number(r.rows[0].p)
  return `the events at positions ${position + 1} to ${resume} were pruned by retention (they are in the ledger archives), so resume with after=${resume}`
}

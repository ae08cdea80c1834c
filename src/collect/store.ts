// The collector's reads and writes (docs/collect.md): collected events, cursors, followed tasks
// and unattributed drain lines. Every write that moves a cursor commits with what it covers.
import { sql } from 'kysely'
import type { Db } from '../store/store.ts'
import { collectedEventEntry, type CcAuditEvent } from './entries.ts'

export interface Cursor {
  readonly eventsAfter: Date | null
  readonly tasksAfter: Date | null
  readonly rescannedAt: Date | null
}

const date = (v: Date | string | null) => (v === null ? null : new Date(v))

export async function readCursor(db: Db, foundation: string): Promise<Cursor> {
  const r = (await sql<{ events_after: Date | string | null; tasks_after: Date | string | null; rescanned_at: Date | string | null }>`
    select events_after, tasks_after, rescanned_at from collect_cursors where foundation = ${foundation}`.execute(db)).rows[0]
  return { eventsAfter: date(r?.events_after ?? null), tasksAfter: date(r?.tasks_after ?? null), rescannedAt: date(r?.rescanned_at ?? null) }
}

/** Moves a cursor forward only (greatest), so an overlap re-read or a rescan never moves it back. */
export async function advanceCursor(db: Db, foundation: string, c: { eventsAfter?: Date; tasksAfter?: Date; rescannedAt?: Date }): Promise<void> {
  await sql`
    insert into collect_cursors (foundation, events_after, tasks_after, rescanned_at, updated_at)
    values (${foundation}, ${c.eventsAfter ?? null}, ${c.tasksAfter ?? null}, ${c.rescannedAt ?? null}, now())
    on conflict (foundation) do update set
      events_after = greatest(collect_cursors.events_after, excluded.events_after),
      tasks_after = greatest(collect_cursors.tasks_after, excluded.tasks_after),
      rescanned_at = coalesce(excluded.rescanned_at, collect_cursors.rescanned_at),
      updated_at = now()`.execute(db)
}

export interface Inserted {
  readonly guid: string
  readonly type: string
  readonly taskGuid: string | null
}

const taskGuidOf = (e: CcAuditEvent) => (typeof e.data?.task_guid === 'string' ? (e.data.task_guid as string) : null)

/**
 * Stores the events not yet collected (by foundation and CC guid) and moves the events cursor to
 * the newest `created_at` of the page, in one transaction: a restart resumes exactly there.
 */
export async function storeEventPage(db: Db, foundation: string, events: readonly CcAuditEvent[]): Promise<Inserted[]> {
  if (!events.length) return []
  const all = [...new Map(events.map((e) => [e.guid, e])).values()]
  const newest = new Date(Math.max(...all.map((e) => Date.parse(e.created_at))))
  return db.transaction().execute(async (tx) => {
    // Overlap re-reads and rescans are mostly known events: skip them before building entries.
    const known = new Set(
      (await sql<{ guid: string }>`select guid from collected_events where foundation = ${foundation} and guid = any(${sql.val(all.map((e) => e.guid))}::text[])`.execute(tx)).rows.map((r) => r.guid),
    )
    const unique = all.filter((e) => !known.has(e.guid))
    if (!unique.length) {
      await advanceCursor(tx, foundation, { eventsAfter: newest })
      return []
    }
    const rows = (
      await sql<{ guid: string; type: string; task_guid: string | null }>`
        insert into collected_events (foundation, guid, created_at, type, actee, space_guid, organization_guid, task_guid, resource, entry)
        select ${foundation}, g, c, t, a, s, o, tg, r::jsonb, decode(e, 'base64')
        from unnest(${sql.val(unique.map((e) => e.guid))}::text[], ${sql.val(unique.map((e) => e.created_at))}::timestamptz[],
          ${sql.val(unique.map((e) => e.type))}::text[], ${sql.val(unique.map((e) => e.target?.guid ?? ''))}::text[],
          ${sql.val(unique.map((e) => e.space?.guid ?? ''))}::text[], ${sql.val(unique.map((e) => e.organization?.guid ?? ''))}::text[],
          ${sql.val(unique.map(taskGuidOf))}::text[], ${sql.val(unique.map((e) => JSON.stringify(e)))}::text[],
          ${sql.val(unique.map((e) => collectedEventEntry(foundation, e).toString('base64')))}::text[])
          with ordinality as x(g, c, t, a, s, o, tg, r, e, n)
        order by n
        on conflict (foundation, guid) do nothing
        returning guid, type, task_guid`.execute(tx)
    ).rows
    await advanceCursor(tx, foundation, { eventsAfter: newest })
    return rows.map((r) => ({ guid: r.guid, type: r.type, taskGuid: r.task_guid }))
  })
}

export interface CollectedEventRow {
  readonly id: number
  readonly foundation: string
  readonly resource: CcAuditEvent
  readonly entry: Buffer
}

/** The collected events of one task run (create, cancel, and any completion the foundation records), oldest first. */
export async function collectedTaskEvents(db: Db, foundation: string, taskGuid: string): Promise<CollectedEventRow[]> {
  const rows = (await sql<{ id: string | number; foundation: string; resource: CcAuditEvent; entry: Buffer | Uint8Array }>`
    select id, foundation, resource, entry from collected_events
    where task_guid = ${taskGuid} and foundation = ${foundation} and type like 'audit.app.task.%' order by created_at, id`.execute(db)).rows
  return rows.map((r) => ({ id: Number(r.id), foundation: r.foundation, resource: r.resource, entry: Buffer.from(r.entry) }))
}

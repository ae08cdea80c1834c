// The audit-event counters (migration 0015): writers' statement triggers only insert signed deltas
// into event_count_deltas, so no writer waits on another for a counter row; the leader folds
// them into event_counts, event_totals and event_minutes here. A count sums the folded rows and
// the pending deltas in one statement (src/queries/events.ts), so it is exact at every moment.
import { sql } from 'kysely'
import type { Db } from '../store/store.ts'

/** True when there are deltas to fold, as one read-only SQL condition (a fold always writes event_totals). */
export const FOLD_PENDING = sql<boolean>`exists (select 1 from event_count_deltas)`

/**
 * Folds every committed delta into the counters in one transaction. Two folders at once (a
 * leadership change) cannot count a delta twice: the second one's delete waits for the first's
 * and then finds the row gone.
 */
export async function foldEventCounts(db: Db): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const r = await sql<{ n: number | string | null }>`
      with d as (delete from event_count_deltas returning organization_guid, space_guid, type, minute, n),
      counts as (
        insert into event_counts (organization_guid, space_guid, type, n)
          select organization_guid, space_guid, type, sum(n) from d group by 1, 2, 3 order by 1, 2, 3
        on conflict (organization_guid, space_guid, type) do update set n = event_counts.n + excluded.n),
      minutes as (
        insert into event_minutes (minute, n) select minute, sum(n) from d group by 1 order by 1
        on conflict (minute) do update set n = event_minutes.n + excluded.n),
      totals as (update event_totals set n = n + coalesce((select sum(n) from d), 0) where id = 1)
      select count(*) as n from d`.execute(tx)
    const folded = Number(r.rows[0]?.n ?? 0)
    if (folded) {
      await sql`delete from event_counts where n <= 0`.execute(tx)
      await sql`delete from event_minutes where n <= 0`.execute(tx)
    }
    return folded
  })
}

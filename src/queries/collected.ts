import { sql } from 'kysely'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { paginate, timestampConditions, type Order } from './list.ts'

export interface CollectedEventFilters {
  readonly foundations?: readonly string[]
  readonly guids?: readonly string[]
  readonly types?: readonly string[]
  readonly createdAts?: TimestampOps
}

/** Collected events (docs/collect.md) with their leaf index; the caller checks global read access. */
export function listCollectedEvents(db: Db, f: CollectedEventFilters, paging: Paging, order: Order) {
  let q = db
    .selectFrom('collected_events')
    .select(['id', 'foundation', 'resource', 'collected_at', 'created_at'])
    .select(sql<string | number | null>`(select l.leaf_index from ledger_leaves l where l.collected_event_id = collected_events.id)`.as('leaf_index'))
  if (f.foundations) q = q.where('foundation', 'in', [...f.foundations])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  if (f.types) q = q.where('type', 'in', [...f.types])
  for (const c of timestampConditions('created_at', f.createdAts ?? {})) q = q.where(c)
  return paginate(q, paging, order, 'id')
}

import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface SpaceFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export function findSpace(db: Db, guid: string) {
  return db.selectFrom('spaces').selectAll().where('guid', '=', guid).executeTakeFirst()
}

/** Spaces by guid, for a list's `include` (the caller already may read the listed resources). */
export function spacesByGuids(db: Db, guids: readonly string[]) {
  const unique = [...new Set(guids)]
  return unique.length ? db.selectFrom('spaces').selectAll().where('guid', 'in', unique).execute() : Promise.resolve([])
}

export function listSpaces(db: Db, perms: Permissions, f: SpaceFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('spaces').selectAll()
  const scope = readableSpaceCondition(perms, 'guid', 'organization_guid')
  if (scope) q = q.where(scope)
  if (f.names) q = q.where('name', 'in', [...f.names])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  if (f.organizationGuids) q = q.where('organization_guid', 'in', [...f.organizationGuids])
  const conds = [
    ...labelConditions('labels', f.labels ?? []),
    ...timestampConditions('created_at', f.createdAts ?? {}),
    ...timestampConditions('updated_at', f.updatedAts ?? {}),
  ]
  for (const c of conds) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

import type { Scope } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order } from './list.ts'

export interface OrgFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export function findOrganization(db: Db, guid: string) {
  return db.selectFrom('organizations').selectAll().where('guid', '=', guid).executeTakeFirst()
}

export function listOrganizations(db: Db, scope: Scope, f: OrgFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('organizations').selectAll()
  if (scope !== 'all') q = scope.length ? q.where('guid', 'in', [...scope]) : q.where((eb) => eb.val(false))
  if (f.names) q = q.where('name', 'in', [...f.names])
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  const conds = [
    ...labelConditions('labels', f.labels ?? []),
    ...timestampConditions('created_at', f.createdAts ?? {}),
    ...timestampConditions('updated_at', f.updatedAts ?? {}),
  ]
  for (const c of conds) q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

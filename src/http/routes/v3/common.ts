import { actorOf } from '../../../auth/principal.ts'
import type { ActionContext } from '../../../actions/context.ts'
import type { Permissions } from '../../../authz/permissions.ts'
import { apiError } from '../../../errors/api-error.ts'
import { parseLabelSelector } from '../../../messages/label-selector.ts'
import { pagingOf, timestampOps, type Paging, type TimestampOps } from '../../../messages/list-query.ts'
import type { Requirement } from '../../../messages/label-selector.ts'
import type { Order } from '../../../queries/list.ts'
import type { Db } from '../../../store/store.ts'
import type { z } from 'zod'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { ok, route, type AuthedContext, type Route } from '../../route.ts'

export function actionContext(db: Db, ctx: AuthedContext): ActionContext {
  return { db, actor: actorOf(ctx.principal) }
}

export interface CommonList {
  readonly paging: Paging
  readonly order: Order
  readonly labels?: Requirement[]
  readonly createdAts: TimestampOps
  readonly updatedAts: TimestampOps
}

/** The parts every v3 list shares, from an already-validated query. */
export function commonList(q: Record<string, unknown>, defaultOrder: Order = { column: 'created_at', direction: 'asc' }): CommonList {
  return {
    paging: pagingOf(q as { page?: number; per_page?: number }),
    order: (q.order_by as Order | undefined) ?? defaultOrder,
    labels: typeof q.label_selector === 'string' ? parseLabelSelector(q.label_selector) : undefined,
    createdAts: timestampOps(q, 'created_ats'),
    updatedAts: timestampOps(q, 'updated_ats'),
  }
}

/** The request as the client sent it, for the `request` field of audit events. */
export function requestOf(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
}

/** CC's is_org_active?: only admins change anything in a suspended org (403 OrgSuspended). */
export function requireActiveOrg(perms: Permissions, org: { readonly suspended: boolean }): void {
  if (org.suspended && !perms.isAdmin) throw apiError('OrgSuspended')
}

/** A list that is always empty here (a resource cf-ledger does not have), its query validated as CC does. */
export function emptyListRoute(url: string, summary: string, tag: string, query: z.ZodType<Record<string, unknown>>): Route {
  return route({
    method: 'GET',
    url,
    summary,
    tag,
    auth: 'read',
    query,
    async handler(ctx) {
      return ok(presentList(ctx, commonList(ctx.query).paging, 0, []))
    },
  })
}

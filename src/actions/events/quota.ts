import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

type Quota = { readonly guid: string; readonly name: string }
type Scope = { readonly spaceGuid?: string; readonly organizationGuid?: string }

/** An event whose actee is an organization quota (CC's OrganizationQuotaEventRepository). */
export function recordOrganizationQuotaEvent(tx: Db, actor: Actor, quota: Quota, type: string, metadata: Record<string, unknown>, scope: Scope = {}) {
  return recordEvent(tx, { type, actor, actee: { guid: quota.guid, type: 'organization_quota', name: quota.name }, metadata, ...scope })
}

/** An event whose actee is a space quota (CC's SpaceQuotaEventRepository). */
export function recordSpaceQuotaEvent(tx: Db, actor: Actor, quota: Quota, type: string, metadata: Record<string, unknown>, scope: Scope = {}) {
  return recordEvent(tx, { type, actor, actee: { guid: quota.guid, type: 'space_quota', name: quota.name }, metadata, ...scope })
}

import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { ServiceBindingRow, ServiceInstanceRow } from '../../store/schema.ts'
import type { Db } from '../../store/store.ts'

/** A user-provided service instance event (CC's ServiceEventRepository); `request` already redacted. */
export function recordUserProvidedServiceInstanceEvent(tx: Db, actor: Actor, si: ServiceInstanceRow, orgGuid: string, type: string, request: Record<string, unknown>) {
  return recordEvent(tx, {
    type,
    actor,
    actee: { guid: si.guid, type: 'user_provided_service_instance', name: si.name },
    metadata: { request },
    spaceGuid: si.space_guid,
    organizationGuid: orgGuid,
  })
}

/** A service binding event, scoped to the app's space; `request` already redacted. */
export function recordServiceBindingEvent(
  tx: Db,
  actor: Actor,
  b: ServiceBindingRow,
  scope: { spaceGuid: string; organizationGuid: string },
  type: string,
  request: Record<string, unknown>,
) {
  return recordEvent(tx, {
    type,
    actor,
    actee: { guid: b.guid, type: 'service_binding', name: b.name ?? '' },
    metadata: { request },
    spaceGuid: scope.spaceGuid,
    organizationGuid: scope.organizationGuid,
  })
}

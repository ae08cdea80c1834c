import { recordEvent } from '../../audit/ledger.ts'
import type { Actor } from '../../auth/principal.ts'
import type { Db } from '../../store/store.ts'

/**
 * `audit.user.<role>_add` / `_remove`: the actee is the user (CC's UserEventRepository); a space
 * role's event is scoped to its space, an org role's to the org only.
 */
export function recordRoleEvent(
  tx: Db,
  actor: Actor,
  user: { guid: string; username: string | null | undefined },
  type: string,
  metadata: Record<string, unknown>,
  scope: { spaceGuid?: string | null; organizationGuid: string },
) {
  return recordEvent(tx, {
    type,
    actor,
    actee: { guid: user.guid, type: 'user', name: user.username ?? '' },
    metadata,
    spaceGuid: scope.spaceGuid ?? undefined,
    organizationGuid: scope.organizationGuid,
  })
}

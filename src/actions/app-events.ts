import { recordEvent } from '../audit/ledger.ts'
import type { Actor } from '../auth/principal.ts'
import type { AppRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

/** An event whose actee is the app, scoped to the app's space and org. */
export function recordAppEvent(
  tx: Db,
  app: Pick<AppRow, 'guid' | 'name' | 'space_guid'>,
  orgGuid: string,
  actor: Actor,
  type: string,
  metadata: Record<string, unknown>,
) {
  return recordEvent(tx, {
    type,
    actor,
    actee: { guid: app.guid, type: 'app', name: app.name },
    metadata,
    spaceGuid: app.space_guid,
    organizationGuid: orgGuid,
  })
}

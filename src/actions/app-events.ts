import { recordEvent } from '../audit/ledger.ts'
import type { Actor } from '../auth/principal.ts'
import type { AppRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export const PRIVATE_DATA_HIDDEN = '[PRIVATE DATA HIDDEN]'

/** CC's AppEventRepository::CENSORED_FIELDS: replaced by the placeholder wherever present. */
const CENSORED_APP_FIELDS = ['encrypted_environment_json', 'command', 'environment_json', 'environment_variables', 'docker_credentials']

export function censorAppRequest(request: Record<string, unknown>): Record<string, unknown> {
  const out = { ...request }
  for (const k of CENSORED_APP_FIELDS) if (k in out) out[k] = PRIVATE_DATA_HIDDEN
  return out
}

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

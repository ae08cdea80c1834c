import crypto from 'node:crypto'
import { chainBody } from './chain-format.ts'

export { canonicalJson, GENESIS_HASH } from './chain-format.ts'

/** The fields an event's hash covers, in a fixed order. */
export interface ChainedFields {
  readonly seq: number
  readonly guid: string
  readonly created_at: Date
  readonly type: string
  readonly actor: string
  readonly actor_type: string
  readonly actor_name: string | null
  readonly actor_username: string | null
  readonly actee: string
  readonly actee_type: string
  readonly actee_name: string
  readonly metadata: unknown
  readonly space_guid: string
  readonly organization_guid: string
}

export function eventHash(prevHash: string, e: ChainedFields): string {
  const body = chainBody({ ...e, created_at: e.created_at.toISOString() })
  return crypto.createHash('sha256').update(prevHash).update('\n').update(body).digest('hex')
}

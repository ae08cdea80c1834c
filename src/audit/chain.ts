import crypto from 'node:crypto'
import { chainBody, type EventFields } from './chain-format.ts'

export { canonicalJson, GENESIS_HASH } from './chain-format.ts'

/** The fields an event's hash covers. */
export type ChainedFields = EventFields<Date>

export function eventHash(prevHash: string, e: ChainedFields): string {
  const body = chainBody({ ...e, created_at: e.created_at.toISOString() })
  return crypto.createHash('sha256').update(prevHash).update('\n').update(body).digest('hex')
}

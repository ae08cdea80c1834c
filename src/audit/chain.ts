import crypto from 'node:crypto'

export const GENESIS_HASH = '0'.repeat(64)

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

/** JSON with object keys sorted at every level, so jsonb's key reordering cannot change a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

export function eventHash(prevHash: string, e: ChainedFields): string {
  const body = canonicalJson([
    e.seq,
    e.guid,
    e.created_at.toISOString(),
    e.type,
    e.actor,
    e.actor_type,
    e.actor_name,
    e.actor_username,
    e.actee,
    e.actee_type,
    e.actee_name,
    e.metadata,
    e.space_guid,
    e.organization_guid,
  ])
  return crypto.createHash('sha256').update(prevHash).update('\n').update(body).digest('hex')
}

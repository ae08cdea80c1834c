// Shared by the log routes: who may read a source id, and log-cache's error shape.
import type { Permissions } from '../../../authz/permissions.ts'
import { findApp, readableAppGuids } from '../../../queries/apps.ts'
import type { Db } from '../../../store/store.ts'
import type { ApiResponse } from '../../route.ts'

/**
 * log-cache's rule: admin scopes read every source; anyone else reads an app's logs when they
 * can see the app (here: read its space). Unknown and unreadable sources look the same (404).
 */
export async function canReadSource(db: Db, perms: Permissions, sourceId: string): Promise<boolean> {
  if (perms.canReadGlobally) return true
  const found = await findApp(db, sourceId)
  return !!found && perms.canReadSpace(found.space.guid, found.space.organization_guid)
}

/** The readable ones among `sourceIds`, with one query for non-admins. */
export async function readableSources(db: Db, perms: Permissions, sourceIds: readonly string[]): Promise<Set<string>> {
  if (perms.canReadGlobally || !sourceIds.length) return new Set(perms.canReadGlobally ? sourceIds : [])
  return readableAppGuids(db, perms, sourceIds)
}

/** log-cache answers errors with its own small JSON object, not CC's error envelope. */
export function logCacheError(status: number, message: string): ApiResponse {
  return { status, body: { error: status === 404 ? 'not_found' : 'bad_request', message } }
}

/** One query value (the last, when a key repeats). */
export function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v
}

export function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** A signed int64 in decimal, or an error message naming the parameter. */
export function parseInt64(name: string, raw: string): bigint | string {
  if (!/^[-+]?\d{1,20}$/.test(raw)) return `${name} must be an integer (nanoseconds since the epoch), got '${raw}'`
  const v = BigInt(raw)
  if (v < INT64_MIN || v > INT64_MAX) return `${name} is out of range for a signed 64-bit integer: '${raw}'`
  return v
}

/** Go's strconv.ParseBool, as grpc-gateway reads booleans. */
export function parseBool(name: string, raw: string): boolean | string {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False', ''].includes(raw)) return false
  return `${name} must be true or false, got '${raw}'`
}

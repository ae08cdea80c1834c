// The resources cf-ledger has exactly one of and nothing to manage: the stack staging stamps on
// every droplet, the buildpack staging behaves as, and the shared domain cf lists. Their guids are
// derived from their names, so they are the same on every server and across restarts.
import crypto from 'node:crypto'
import { DEFAULT_STACK } from '../actions/app-create.ts'

/** A stable UUID-shaped guid for a fixed resource. */
export function fixedGuid(kind: string, name: string): string {
  const h = crypto.createHash('sha256').update(`cf-ledger:${kind}:${name}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export interface FixedResource {
  readonly guid: string
  readonly name: string
}

export const STACK = {
  guid: fixedGuid('stack', DEFAULT_STACK),
  name: DEFAULT_STACK,
  description: 'The only stack: droplets are the pushed files, run as tasks in a sandbox on this host',
} as const

/** Staging runs no buildpack: the package's files become the droplet, which is what binary_buildpack does. */
export const BUILDPACK = { guid: fixedGuid('buildpack', 'binary_buildpack'), name: 'binary_buildpack', stack: DEFAULT_STACK } as const

/** The shared domain; cf-ledger routes no traffic, so no route on it ever exists. */
export const SHARED_DOMAIN = { guid: fixedGuid('domain', 'apps.cf-ledger.local'), name: 'apps.cf-ledger.local' } as const

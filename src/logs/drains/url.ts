// Drain URLs as the syslog agent reads them: scheme (schemes.ts), host, port, the query options,
// and the anonymous form used in messages.
import { SCHEMES } from './schemes.ts'
import type { ParsedDrainUrl } from './transport.ts'

export type { ParsedDrainUrl } from './transport.ts'

/** Parses a drain URL; `undefined` when the agent would not drain it (unsupported scheme). */
export function parseDrainUrl(raw: string): ParsedDrainUrl | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return undefined
  }
  const scheme = url.protocol.replace(/:$/, '')
  const spec = Object.hasOwn(SCHEMES, scheme) ? SCHEMES[scheme] : undefined
  if (!spec || !url.hostname) return undefined
  const q = url.searchParams
  const drainData = q.get('drain-data') ?? q.get('drain-type')
  const logs = drainData !== 'metrics' && drainData !== 'traces'
  const withMetadata = !['true'].includes(q.get('disable-metadata') ?? q.get('omit-metadata') ?? '')
  return { scheme, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : spec.defaultPort, url, logs, withMetadata }
}

/** A URL without userinfo and query, as the syslog agent names a drain in its messages. */
export function anonymousUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:[^/?#]*@)?([^?#]*).*$/s, '$1$2')
}

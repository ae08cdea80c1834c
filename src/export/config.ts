// Configuration of the audit-event syslog forwarder (docs/export.md), read through the settings table.
import fs from 'node:fs'
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'
import { syslogHostname } from './present.ts'

export interface AuditSyslogConfig {
  /** The URL as configured, with any userinfo removed, for logs and the status endpoint. */
  readonly url: string
  readonly tls: boolean
  readonly host: string
  readonly port: number
  /** PEM CA bundle trusted for tls:// instead of Node's default store. */
  readonly ca: string | undefined
  /** RFC 5424 HOSTNAME of every message. */
  readonly hostname: string
}

const SCHEMES: Readonly<Record<string, boolean>> = { 'tcp:': false, 'syslog:': false, 'tls:': true, 'syslog-tls:': true }

/** Undefined when CF_LEDGER_AUDIT_SYSLOG_URL is unset (the forwarder is off by default). */
export function loadAuditSyslogConfig(env: Env): AuditSyslogConfig | undefined {
  const get = reader(env)
  const raw = get(S.auditSyslogUrl)
  if (!raw) return undefined
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw new Error(`CF_LEDGER_AUDIT_SYSLOG_URL must be tcp://HOST:PORT or tls://HOST:PORT, got '${raw}'`)
  }
  const tls = SCHEMES[u.protocol]
  if (tls === undefined || !u.hostname || !u.port || (u.pathname !== '' && u.pathname !== '/')) {
    throw new Error(`CF_LEDGER_AUDIT_SYSLOG_URL must be tcp://HOST:PORT or tls://HOST:PORT, got '${raw}'`)
  }
  const caFile = get(S.auditSyslogCa)
  let ca: string | undefined
  if (caFile) {
    try {
      ca = fs.readFileSync(caFile, 'utf8')
    } catch (err) {
      throw new Error(`CF_LEDGER_AUDIT_SYSLOG_CA: cannot read '${caFile}': ${(err as Error).message}`)
    }
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  return {
    url: `${u.protocol}//${u.host}`,
    tls,
    host,
    port: Number(u.port),
    ca,
    hostname: syslogHostname(get(S.auditSyslogHostname)),
  }
}

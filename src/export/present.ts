// The exported forms of an audit event: an NDJSON line and an RFC 5424 syslog message.
import os from 'node:os'
import { presentAuditEvent } from '../presenters/v3/audit-event.ts'
import { sdValue } from '../syslog/framing.ts'
import type { ExportRow } from './events.ts'

/**
 * One event as JSON: its log `position` (the exporters' cursor) and `seq`, the v3 audit event exactly as /v3/audit_events presents it
 * (presentAuditEvent), then `prev_hash` and `hash`. `links` is present when a base URL is known
 * (the HTTP stream) and left out otherwise (syslog, as CC's `log_audit_events` does).
 */
export function eventJson(r: ExportRow, baseUrl?: string): string {
  const body: Record<string, unknown> = { position: r.position, seq: r.seq, ...presentAuditEvent(r, baseUrl ?? ''), prev_hash: r.prev_hash, hash: r.hash }
  if (baseUrl === undefined) delete body.links
  return JSON.stringify(body)
}

/** RFC 5424 PRI: facility 13 (log audit) × 8 + severity 6 (informational). */
export const SYSLOG_PRI = 13 * 8 + 6
/** The SD-ID of the structured-data element; 47450 is the Cloud Foundry Foundation's IANA number. */
export const SYSLOG_SD_ID = 'audit@47450'

/** RFC 5424 HOSTNAME: printable US-ASCII, no spaces, at most 255 characters, `-` when empty. */
export function syslogHostname(name = os.hostname()): string {
  const clean = name.replace(/[^\x21-\x7e]/g, '').slice(0, 255)
  return clean || '-'
}

/**
 * One RFC 5424 message for an event, ending in LF:
 * `<110>1 TIMESTAMP HOSTNAME cf-ledger - audit [audit@47450 seq="…" position="…" guid="…" type="…"] JSON\n`.
 * TIMESTAMP is the event's own time with milliseconds, so a replayed event keeps its time.
 */
export function syslogMessage(r: ExportRow, hostname: string): string {
  const sd = `[${SYSLOG_SD_ID} seq="${r.seq}" position="${r.position}" guid="${sdValue(r.guid)}" type="${sdValue(r.type)}"]`
  return `<${SYSLOG_PRI}>1 ${r.created_at.toISOString()} ${hostname} cf-ledger - audit ${sd} ${eventJson(r)}\n`
}

// RFC 5424 messages exactly as the syslog agent writes them for log envelopes
// (loggregator-agent-release pkg/egress/syslog/rfc5424.go and tcp.go):
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME [PROCID] - [tags@47450 k="v" …] MSG\n
import { sdValue } from '../syslog/framing.ts'
import type { Envelope } from './envelope.ts'

const SPACES = /\s+/g
const INVALID = /[^-a-zA-Z0-9]+/g
const TRAILING_DASHES = /-+$/

function sanitize(name: string): string {
  return name.replace(SPACES, '-').replace(INVALID, '').replace(TRAILING_DASHES, '')
}

/** `org.space.app` from the envelope's tags, each part sanitized and cut to 63 (BuildHostname). */
export function hostnameOf(tags: Readonly<Record<string, string>>, fallback = ''): string {
  if (!('organization_name' in tags) && !('space_name' in tags) && !('app_name' in tags)) return fallback
  const part = (s: string | undefined) => sanitize(s ?? '').slice(0, 63)
  return `${part(tags.organization_name)}.${part(tags.space_name)}.${part(tags.app_name)}`.slice(0, 255)
}

const MAX_PROCID = 128
const MAX_INSTANCE = 36

/** `[SOURCE_TYPE/INSTANCE]`: upper-cased, spaces as dashes, non-printing characters removed, ≤ 128. */
export function procIdOf(sourceType: string, instanceId: string): string {
  let type = sourceType.toUpperCase().replace(/ /g, '-').replace(/[^\x21-\x7e]/g, '')
  const max = MAX_PROCID - 2
  if (instanceId === '') return `[${type.slice(0, max)}]`
  let instance = instanceId
  if (instance.length + type.length > max - 1) instance = instance.slice(0, MAX_INSTANCE)
  if (instance.length + type.length > max - 1) type = type.slice(0, max - 1 - instance.length)
  return `[${type}/${instance}]`
}

/** `[tags@47450 k="v" …]` with the keys sorted; `-` without tags or with metadata disabled. */
export function structuredDataOf(tags: Readonly<Record<string, string>>): string {
  const keys = Object.keys(tags).sort()
  if (!keys.length) return '-'
  return `[tags@47450 ${keys.map((k) => `${k}="${sdValue(tags[k]!)}"`).join(' ')}]`
}

let cachedSecond = -1
let cachedPrefix = ''

/** Go's `2006-01-02T15:04:05.999999-07:00` in UTC: microseconds without trailing zeros, `+00:00`. */
export function timestampOf(ns: bigint): string {
  // Microseconds since the epoch fit a double exactly (< 2^53 until the year 2255).
  const micros = Number(ns / 1000n)
  const second = Math.floor(micros / 1_000_000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19)
  }
  let frac = micros - second * 1_000_000
  if (frac === 0) return `${cachedPrefix}+00:00`
  let digits = 6
  while (frac % 10 === 0) {
    frac /= 10
    digits--
  }
  return `${cachedPrefix}.${String(frac).padStart(digits, '0')}+00:00`
}

/** HOSTNAME APP-NAME PROCID MSGID SD between the timestamp and the message, per tags object. */
const middles = new WeakMap<object, [string | undefined, string | undefined]>()

function middleOf(e: Envelope, withMetadata: boolean): string {
  let pair = middles.get(e.tags)
  if (!pair) middles.set(e.tags, (pair = [undefined, undefined]))
  const i = withMetadata ? 1 : 0
  let m = pair[i]
  if (m === undefined) {
    const host = hostnameOf(e.tags) || '-'
    const app = e.sourceId.slice(0, 48) || '-'
    const pid = procIdOf(e.tags.source_type ?? '', e.instanceId) || '-'
    const sd = withMetadata ? structuredDataOf(e.tags) : '-'
    m = pair[i] = ` ${host} ${app} ${pid} - ${sd} `
  }
  return m
}

/** One RFC 5424 message (no transport framing), ending in `\n`. */
export function rfc5424(e: Envelope, withMetadata = true): string {
  let msg = e.payload
  if (msg.indexOf('\u0000') >= 0) msg = msg.replace(/\u0000/g, '')
  if (msg.charCodeAt(msg.length - 1) !== 10) msg += '\n'
  return `<${e.type === 'ERR' ? 11 : 14}>1 ${timestampOf(e.timestamp)}${middleOf(e, withMetadata)}${msg}`
}

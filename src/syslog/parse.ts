// Reading what Loggregator's syslog agent sends (the reverse of logs/syslog.ts): RFC 6587 framing
// of a byte stream into messages, and the RFC 5424 fields of one message. Hand-written with
// indexOf rather than a regular expression: the drain listener parses every line it receives.

/** One RFC 5424 message, as far as an audit collector needs it. */
export interface SyslogMessage {
  readonly priority: number
  /** Microseconds since the epoch (RFC 5424 allows six fraction digits); null for `-`. */
  readonly timestampMicros: number | null
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly msgId: string
  /** SD-ELEMENT id → its params (values unescaped). */
  readonly structuredData: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** The message text, without the trailing newline the agent adds. */
  readonly message: string
}

export class SyslogParseError extends Error {}

function field(s: string, from: number): [string, number] {
  const end = s.indexOf(' ', from)
  if (end < 0) throw new SyslogParseError('truncated header')
  return [s.slice(from, end), end + 1]
}

let lastSdText = ''
let lastSd: Record<string, Record<string, string>> = {}
let lastSecond = ''
let lastMs = 0

/** RFC 3339 with up to six fraction digits → µs; `Date.parse` keeps only milliseconds. */
function timestampMicros(t: string): number | null {
  if (t === '-') return null
  const dot = t.indexOf('.')
  const zone = Math.max(t.lastIndexOf('+'), t.lastIndexOf('-'), t.indexOf('Z'))
  if (zone < 19) throw new SyslogParseError(`bad timestamp '${t}'`)
  let frac = 0
  if (dot > 0 && dot < zone) {
    const digits = zone - dot - 1
    if (digits < 1 || digits > 6) throw new SyslogParseError(`bad timestamp '${t}'`)
    for (let k = dot + 1; k < zone; k++) {
      const d = t.charCodeAt(k) - 48
      if (d < 0 || d > 9) throw new SyslogParseError(`bad timestamp '${t}'`)
      frac = frac * 10 + d
    }
    for (let k = digits; k < 6; k++) frac *= 10
  }
  // Consecutive lines share their second: parse it once.
  const second = `${t.slice(0, 19)}${t.slice(zone)}`
  if (second !== lastSecond) {
    lastMs = Date.parse(second)
    if (Number.isNaN(lastMs)) throw new SyslogParseError(`bad timestamp '${t}'`)
    lastSecond = second
  }
  return lastMs * 1000 + frac
}

/** A PARAM-VALUE from `from` to its closing quote (returned as its index), `\"`, `\\` and `\]` unescaped. */
function paramValue(s: string, from: number): [string, number] {
  const quote = s.indexOf('"', from)
  if (quote < 0) throw new SyslogParseError('unterminated SD-PARAM value')
  // The common case: no backslash before the closing quote.
  let plain = true
  for (let k = from; k < quote; k++) if (s.charCodeAt(k) === 92) plain = false
  if (plain) return [s.slice(from, quote), quote]
  let value = ''
  let j = from
  for (;;) {
    const c = s[j]
    if (c === undefined) throw new SyslogParseError('unterminated SD-PARAM value')
    if (c === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\' || s[j + 1] === ']')) {
      value += s[j + 1]
      j += 2
    } else if (c === '"') return [value, j]
    else {
      value += c
      j++
    }
  }
}

function structuredData(s: string, from: number): [Record<string, Record<string, string>>, number] {
  const out: Record<string, Record<string, string>> = {}
  if (s[from] === '-') return [out, from + 1]
  let i = from
  while (s[i] === '[') {
    let idEnd = i + 1
    while (idEnd < s.length && s[idEnd] !== ' ' && s[idEnd] !== ']') idEnd++
    if (idEnd >= s.length) throw new SyslogParseError('unterminated structured data')
    const id = s.slice(i + 1, idEnd)
    const params: Record<string, string> = {}
    i = idEnd
    while (s[i] === ' ') {
      const eq = s.indexOf('="', i)
      if (eq < 0) throw new SyslogParseError('bad SD-PARAM')
      const name = s.slice(i + 1, eq)
      const [value, end] = paramValue(s, eq + 2)
      params[name] = value
      i = end + 1
    }
    if (s[i] !== ']') throw new SyslogParseError('unterminated SD-ELEMENT')
    out[id] = params
    i++
  }
  return [out, i]
}

/** Parses one RFC 5424 message; throws SyslogParseError on anything that is not one. */
export function parseRfc5424(s: string): SyslogMessage {
  if (s[0] !== '<') throw new SyslogParseError('no PRI')
  const close = s.indexOf('>')
  const priority = Number(s.slice(1, close))
  if (close < 2 || close > 4 || !Number.isInteger(priority) || priority > 191) throw new SyslogParseError('bad PRI')
  if (s[close + 1] !== '1' || s[close + 2] !== ' ') throw new SyslogParseError('not syslog version 1')
  const [ts, a] = field(s, close + 3)
  const [hostname, b] = field(s, a)
  const [appName, c] = field(s, b)
  const [procId, d] = field(s, c)
  const [msgId, i] = field(s, d)
  // A drain's consecutive lines mostly share their structured data: parse it once per run of them.
  let sd: Record<string, Record<string, string>>
  let after: number
  if (lastSdText && s.startsWith(lastSdText, i) && (s.length === i + lastSdText.length || s[i + lastSdText.length] === ' ')) {
    sd = lastSd
    after = i + lastSdText.length
  } else {
    ;[sd, after] = structuredData(s, i)
    lastSdText = s.slice(i, after)
    lastSd = sd
  }
  let message = after >= s.length ? '' : s.slice(s[after] === ' ' ? after + 1 : after)
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1)
  if (message.endsWith('\n')) message = message.slice(0, -1)
  return { priority, timestampMicros: timestampMicros(ts), hostname, appName, procId, msgId, structuredData: sd, message }
}

const EMPTY = Buffer.alloc(0)

/** An octet-counted frame's whole length from its first bytes; -1 when its header is not all there (or it is not octet counted). */
function octetFrameLength(b: Buffer): number {
  let len = 0
  let j = 0
  while (j < b.length && j < 10 && b[j]! >= 0x30 && b[j]! <= 0x39) len = len * 10 + b[j++]! - 0x30
  return j > 0 && j < b.length && b[j] === 0x20 ? j + 1 + len : -1
}

/**
 * Splits a TCP byte stream into syslog messages: RFC 6587 octet counting (`LEN SP MSG`, what
 * Loggregator sends) and, for a frame that starts with `<`, non-transparent framing ending at LF.
 * Keeps the unfinished rest between chunks; counts bytes, so multi-byte characters are exact.
 */
export class FrameReader {
  private rest: Buffer = Buffer.alloc(0)

  /** Feeds bytes; calls `onMessage` per complete message. Throws SyslogParseError on a bad frame. */
  push(chunk: Buffer, onMessage: (message: string) => void): void {
    let buf = chunk
    if (this.rest.length) {
      // Complete the held frame with only the bytes it still needs, then read the chunk in place.
      const total = octetFrameLength(this.rest)
      if (total < 0) buf = Buffer.concat([this.rest, chunk])
      else {
        const need = total - this.rest.length
        if (chunk.length < need) {
          this.rest = Buffer.concat([this.rest, chunk])
          return
        }
        const held = Buffer.concat([this.rest, chunk.subarray(0, need)])
        this.rest = EMPTY
        this.scan(held, onMessage)
        buf = chunk.subarray(need)
      }
    }
    this.scan(buf, onMessage)
  }

  private scan(buf: Buffer, onMessage: (message: string) => void): void {
    let i = 0
    const n = buf.length
    while (i < n) {
      const c = buf[i]!
      if (c === 0x3c /* < */) {
        const lf = buf.indexOf(0x0a, i)
        if (lf < 0) break
        onMessage(buf.toString('utf8', i, lf))
        i = lf + 1
        continue
      }
      let len = 0
      let j = i
      while (j < n && buf[j]! >= 0x30 && buf[j]! <= 0x39) {
        len = len * 10 + buf[j]! - 0x30
        j++
        if (j - i > 9) throw new SyslogParseError('frame length too long')
      }
      if (j === n) break
      if (j === i || buf[j] !== 0x20) throw new SyslogParseError(`bad frame at byte ${i}: expected 'LEN SP' (RFC 6587 octet counting)`)
      if (j + 1 + len > n) break
      onMessage(buf.toString('utf8', j + 1, j + 1 + len))
      i = j + 1 + len
    }
    this.rest = i >= n ? EMPTY : Buffer.from(buf.subarray(i))
  }

  /** Bytes of an unfinished frame held back. */
  get pending(): number {
    return this.rest.length
  }
}

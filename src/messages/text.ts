// The one text rule for everything a client sends (bodies, queries, paths, forms): PostgreSQL
// cannot store NUL in text or jsonb, and a lone UTF-16 surrogate cannot be encoded as UTF-8, so
// both are refused here, in the message layer, before anything reaches the database; so is a
// body or URL that is not valid UTF-8 (rather than being stored as U+FFFD).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * textProblem as a JSON Schema pattern, for /openapi.json: no NUL. Unpaired surrogates are left
 * out: a surrogate range in a pattern made schemathesis (hypothesis) ignore the whole pattern.
 */
export const TEXT_PATTERN = '^[^\\u0000]*$'

/**
 * A string with something besides whitespace (Rails' `present?`, checked with JS `trim()`), under
 * the text rule, as a JSON Schema pattern. The blanks it names are every character `trim()` removes
 * (JS WhiteSpace and LineTerminator) and a few that Python's `\s` adds (U+001C–U+001F, U+0085) or
 * older Unicode counted (U+180E), so it is never wider than the check: `\s` differs between the
 * two regex dialects and is not used.
 */
export const NOT_BLANK_PATTERN =
  '^[^\\u0000]*[^\\u0000\\t-\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u180e\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000]*$'

/** What is wrong with a string, or undefined when it may be stored. */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL characters'
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (it contains an unpaired surrogate)'
  return undefined
}

/** The largest magnitude any stored integer may have (PostgreSQL bigint); doubles at or past it overflow. */
export const BIGINT_LIMIT = 2 ** 63

/**
 * Walks a parsed input (keys and values) and returns the first problem as `where problem`, or
 * undefined. With `numbers`, integers too large for any column (or not finite) are refused too;
 * each field's own range (CC's, else its column's) is checked by its schema first (numbers.ts).
 */
export function inputProblem(value: unknown, opts: { numbers: boolean }, where = ''): string | undefined {
  const at = (k: string) => (where ? `${where}.${k}` : k)
  if (typeof value === 'string') {
    const p = textProblem(value)
    return p && `${where || 'value'} ${p}`
  }
  if (typeof value === 'number') {
    return !opts.numbers || (Number.isFinite(value) && Math.abs(value) < BIGINT_LIMIT) ? undefined : `${where || 'value'} is out of range`
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = inputProblem(value[i], opts, at(String(i)))
      if (p) return p
    }
    return undefined
  }
  // Uploaded bytes (buffers, streams) are not text.
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && typeof (value as { pipe?: unknown }).pipe !== 'function') {
    for (const [k, v] of Object.entries(value)) {
      const kp = textProblem(k)
      if (kp) return `${at('key')} ${kp}`
      const p = inputProblem(v, opts, at(k))
      if (p) return p
    }
  }
  return undefined
}

const fatal = new TextDecoder('utf-8', { fatal: true })

/** Decodes bytes as UTF-8, or returns undefined when they are not valid UTF-8. */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * True when the percent-escapes of a URL part decode to valid UTF-8. A `%` not followed by two
 * hex digits stays a literal `%` (as cf sends it), so only the escaped bytes are judged.
 */
export function percentEncodingIsUtf8(s: string): boolean {
  if (!s.includes('%')) return true
  const bytes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c < 0x80) {
      bytes.push(c)
    } else {
      // Not ASCII: the URL arrived with raw bytes that node already decoded as latin1; keep them as sent.
      bytes.push(c & 0xff)
    }
  }
  return strictUtf8(Uint8Array.from(bytes)) !== undefined
}

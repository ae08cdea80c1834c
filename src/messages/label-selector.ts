import { badQuery } from '../errors/api-error.ts'

export type Requirement =
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'not_exists'; readonly key: string }

const KEY = '[A-Za-z0-9]([A-Za-z0-9_.\\-/]*[A-Za-z0-9])?'
const VALUE = '[A-Za-z0-9_.\\-]*'
const PATTERNS: readonly [RegExp, (m: RegExpMatchArray) => Requirement][] = [
  [new RegExp(`^(${KEY})\\s*(==|=)\\s*(${VALUE})$`), (m) => ({ op: 'in', key: m[1]!, values: [m[4]!] })],
  [new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`), (m) => ({ op: 'notin', key: m[1]!, values: [m[3]!] })],
  [new RegExp(`^(${KEY})\\s+in\\s+\\((.*)\\)$`), (m) => ({ op: 'in', key: m[1]!, values: splitValues(m[3]!) })],
  [new RegExp(`^(${KEY})\\s+notin\\s+\\((.*)\\)$`), (m) => ({ op: 'notin', key: m[1]!, values: splitValues(m[3]!) })],
  [new RegExp(`^!(${KEY})$`), (m) => ({ op: 'not_exists', key: m[1]! })],
  [new RegExp(`^(${KEY})$`), (m) => ({ op: 'exists', key: m[1]! })],
]

const REQUIREMENT = `(?:${KEY} *(?:==|=|!=) *${VALUE}|${KEY} +(?:in|notin) +\\( *${VALUE}(?: *, *${VALUE})* *\\)|!?${KEY})`

/**
 * What parseLabelSelector accepts, as a JSON Schema pattern for /openapi.json; narrower than the
 * parser (spaces only where it allows any whitespace).
 */
export const LABEL_SELECTOR_PATTERN = `^ *${REQUIREMENT} *(?:, *${REQUIREMENT} *)*$`

function splitValues(s: string): string[] {
  return s.split(',').map((v) => v.trim())
}

/** Splits on commas that are not inside parentheses. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of selector) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  return parts.map((p) => p.trim())
}

/** Parses a Kubernetes-style label selector as CF accepts it. */
export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === '') throw badQuery('Missing label_selector value')
  return splitRequirements(selector).map((part) => {
    for (const [re, build] of PATTERNS) {
      const m = part.match(re)
      if (m) return build(m)
    }
    throw badQuery(`Invalid label_selector value`)
  })
}

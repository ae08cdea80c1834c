// The parsers every setting goes through: one for booleans, one for integers, one for durations,
// so `off`, `0` and `false` mean the same everywhere and a bad value always stops the start.

export interface Parser<T> {
  /** What the value looks like, for --help and the docs table. */
  readonly kind: string
  /** The value, or an Error naming the setting and what it must be. */
  parse(raw: string, name: string): T
}

const invalid = (name: string, what: string, raw: string) => new Error(`${name} must be ${what}, got '${raw}'`)

export const boolean: Parser<boolean> = {
  kind: 'boolean',
  parse(raw, name) {
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    throw invalid(name, 'true or false (also yes/no, on/off, 1/0)', raw)
  },
}

/** A whole number in [min, max]; values outside are refused, never clamped. */
export function integer(opts: { min?: number; max?: number } = {}): Parser<number> {
  const min = opts.min ?? 0
  return {
    kind: 'integer',
    parse(raw, name) {
      const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN
      if (!Number.isSafeInteger(n)) throw invalid(name, `a whole number of at least ${min}`, raw)
      if (n < min) throw invalid(name, `at least ${min}`, raw)
      if (opts.max !== undefined && n > opts.max) throw invalid(name, `at most ${opts.max}`, raw)
      return n
    },
  }
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
type Unit = keyof typeof UNIT_MS

/**
 * A length of time in `unit`: a bare number is in that unit, or give one (`500ms`, `30s`, `15m`,
 * `2h`, `31d`); it must come out whole in `unit`.
 */
export function duration(unit: Unit, opts: { min?: number } = {}): Parser<number> {
  const min = opts.min ?? 0
  return {
    kind: `duration (${unit})`,
    parse(raw, name) {
      const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim())
      const value = m ? (Number(m[1]) * UNIT_MS[(m[2] as Unit | undefined) ?? unit]) / UNIT_MS[unit] : NaN
      if (!Number.isSafeInteger(value)) throw invalid(name, `a whole number of ${unitName(unit)} (or with a unit: 500ms, 30s, 15m, 2h, 1d)`, raw)
      if (value < min) throw invalid(name, `at least ${min} ${unitName(unit)}`, raw)
      return value
    },
  }
}

function unitName(unit: Unit): string {
  return { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days' }[unit]
}

export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
  const words = values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : values[0]!
  return {
    kind: values.join(' | '),
    parse(raw, name) {
      if ((values as readonly string[]).includes(raw)) return raw as V
      throw invalid(name, words, raw)
    },
  }
}

export const text: Parser<string> = { kind: 'text', parse: (raw) => raw }

/** Comma-separated items, blanks dropped; each item through `item`. */
export function list<T>(item: Parser<T>): Parser<readonly T[]> {
  return {
    kind: `comma list of ${item.kind}`,
    parse: (raw, name) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => item.parse(s, name)),
  }
}

/** A text that must match `pattern`; `what` says what it must be. */
export function matching(pattern: RegExp, what: string, kind = 'text'): Parser<string> {
  return {
    kind,
    parse(raw, name) {
      if (!pattern.test(raw)) throw invalid(name, what, raw)
      return raw
    },
  }
}

// Small helpers shared by the benchmarks: percentiles, timing, and aligned result rows.

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export interface Summary {
  readonly n: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean }
}

export function ms(ns: bigint | number): number {
  return Number(ns) / 1e6
}

export const now = () => process.hrtime.bigint()

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}

/** Prints a table with a header row; numbers are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)))
  for (const r of cells) console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  '))
}

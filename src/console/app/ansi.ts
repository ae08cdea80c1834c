// ANSI SGR colour sequences (ESC [ … m) become classes on text segments; every other escape or
// control character stays in the text as its visible picture (format.ts `visible`). Nothing here
// produces markup: segments are rendered as text nodes.
import { visible } from './format.ts'

export interface Segment {
  readonly text: string
  /** Space-separated class names (ansi-fg-1, ansi-bold, …), or '' for plain text. */
  readonly cls: string
}

interface Style {
  fg: number | null
  bg: number | null
  bold: boolean
  dim: boolean
  italic: boolean
  underline: boolean
}

const plain = (): Style => ({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
})

function classes(s: Style): string {
  const out: string[] = []
  if (s.fg !== null) out.push(`ansi-fg-${s.fg}`)
  if (s.bg !== null) out.push(`ansi-bg-${s.bg}`)
  if (s.bold) out.push('ansi-bold')
  if (s.dim) out.push('ansi-dim')
  if (s.italic) out.push('ansi-italic')
  if (s.underline) out.push('ansi-underline')
  return out.join(' ')
}

function apply(s: Style, params: number[]): void {
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!
    if (p === 0) Object.assign(s, plain())
    else if (p === 1) s.bold = true
    else if (p === 2) s.dim = true
    else if (p === 3) s.italic = true
    else if (p === 4) s.underline = true
    else if (p === 22) s.bold = s.dim = false
    else if (p === 23) s.italic = false
    else if (p === 24) s.underline = false
    else if (p >= 30 && p <= 37) s.fg = p - 30
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8
    else if (p === 39) s.fg = null
    else if (p >= 40 && p <= 47) s.bg = p - 40
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8
    else if (p === 49) s.bg = null
    else if (p === 38 || p === 48) {
      // 256-colour (5;n) keeps the 16 basic colours; 24-bit (2;r;g;b) is skipped.
      const mode = params[i + 1]
      if (mode === 5) {
        const n = params[i + 2] ?? 0
        if (n < 16) {
          if (p === 38) s.fg = n
          else s.bg = n
        }
        i += 2
      } else if (mode === 2) i += 4
    }
  }
}

const SGR = /\u001b\[([0-9;]*)m/g

export function parseAnsi(line: string): Segment[] {
  if (!line.includes('\u001b')) return [{ text: visible(line), cls: '' }]
  const out: Segment[] = []
  const style = plain()
  let last = 0
  for (const m of line.matchAll(SGR)) {
    if (m.index > last) out.push({ text: visible(line.slice(last, m.index)), cls: classes(style) })
    apply(style, m[1] ? m[1].split(';').map((x) => Number(x) || 0) : [0])
    last = m.index + m[0].length
  }
  if (last < line.length) out.push({ text: visible(line.slice(last)), cls: classes(style) })
  return out
}

/** The line without SGR sequences, for searching. */
export function stripAnsi(line: string): string {
  return line.includes('\u001b') ? line.replace(SGR, '') : line
}

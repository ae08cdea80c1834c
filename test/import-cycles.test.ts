// No import cycle in src/ (docs/architecture.md), type-only imports and re-exports included, and no SQL in src/http/: every
// relative import of every source file is read with TypeScript's own pre-processor and the import
// graph's strongly connected components are found (Tarjan). No server; runs in well under a second.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import ts from 'typescript'

const SRC = path.resolve(import.meta.dirname, '..', 'src')

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name)
    if (d.isDirectory()) return sourceFiles(p)
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : []
  })
}

/** The src files a file imports (relative specifiers only: packages cannot import us back). */
export function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true)
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s))
    .filter((p) => fs.existsSync(p))
}

/** Tarjan's algorithm: the components of more than one file, or a file importing itself. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

it('finds a cycle in a small graph, and none in a tree', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])
  assert.deepEqual(cycles(g), [['a', 'b', 'c']])
  assert.deepEqual(cycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), [])
})

it('src/ has no import cycle', () => {
  const files = sourceFiles(SRC)
  assert.ok(files.length > 100, `read ${files.length} source files`)
  const graph = new Map(files.map((f) => [f, importsOf(f)]))
  const rel = (f: string) => path.relative(SRC, f)
  assert.deepEqual(cycles(graph).map((c) => c.map(rel)), [])
})

// The layering rule beside it (docs/architecture.md, "What HTTP may do with SQL").
const OWN_SQL = /\.(selectFrom|updateTable|insertInto|deleteFrom|transaction)\(|\bsql(<[^>]*>)?`|from 'kysely'/

it('src/http/ builds no SQL of its own', () => {
  const http = sourceFiles(path.join(SRC, 'http'))
  assert.ok(http.length > 30, `read ${http.length} files`)
  const offenders = http.filter((f) => OWN_SQL.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f))
  assert.deepEqual(offenders, [])
})

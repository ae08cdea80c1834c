// The embedded store's starting point: an initdb'd and migrated PGlite data directory that the
// build makes once (`npm run build` → dist/pglite-template, template-schema.ts). A new store copies
// it (~40 MB of files, eight at a time, well under a second) instead of running initdb, which took
// 4.5–12 s and peaked near 670 MiB, and the migrations (docs/operations.md, "Sizing"). Its few per-store rows
// are claimed with fresh guids and times at the first open; keys live outside it, in the data dir.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** From source (src/store) or built (dist/store, dist/bundle), the template is dist/pglite-template. */
export function templateDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return import.meta.url.endsWith('.ts') ? path.resolve(here, '..', '..', 'dist', 'pglite-template') : path.resolve(here, '..', 'pglite-template')
}

/**
 * Fills an absent or empty `dataDir` from the template; false when there is no template (a checkout
 * that was never built), and the caller runs initdb. The copy lands under a temporary name and is
 * renamed into place, so a crash mid-copy never leaves a half data directory that looks whole.
 */
export async function copyTemplate(dataDir: string, template = templateDir()): Promise<boolean> {
  if (!fs.existsSync(path.join(template, 'PG_VERSION'))) return false
  const partial = `${dataDir}.partial-${process.pid}`
  fs.rmSync(partial, { recursive: true, force: true })
  await copyTree(template, partial)
  if (fs.existsSync(dataDir)) fs.rmdirSync(dataDir) // empty (checked by the caller): rename needs it gone
  fs.renameSync(partial, dataDir)
  return true
}

/** Files copied at once: the template's ~1,250 small files cost their creations more than their bytes. */
const PARALLEL_COPIES = 8

/** Copies a tree of directories and regular files (modes kept), several files at a time on the thread pool. */
async function copyTree(from: string, to: string): Promise<void> {
  const files: string[] = []
  const walk = (rel: string) => {
    fs.mkdirSync(path.join(to, rel), { mode: fs.statSync(path.join(from, rel)).mode & 0o7777 })
    for (const e of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name)
      if (e.isDirectory()) walk(r)
      else if (e.isFile()) files.push(r)
      else throw new Error(`the template holds ${r}, which is neither a file nor a directory`)
    }
  }
  walk('')
  let next = 0
  await Promise.all(
    Array.from({ length: PARALLEL_COPIES }, async () => {
      while (next < files.length) {
        const f = files[next++]!
        await fs.promises.copyFile(path.join(from, f), path.join(to, f))
      }
    }),
  )
}

// The shipped entry (bin/cf-ledger → dist/bundle/boot.js): runs the bundled CLI, main.cjs, through
// V8's code cache, so a start need not parse and compile the 4.8 MB bundle again. The cache is
// made by the first server after a build (with the functions its start compiled) and sits
// beside the bundle, named after everything V8 requires to match: the bundle's bytes, Node's
// version and V8's flags (NODE_OPTIONS included). A missing, stale or unwritable cache only costs
// the compile it saves.
import crypto from 'node:crypto'
import fs from 'node:fs'
import Module, { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'
import { lendImporter } from '../runtime/import-package.ts'

const file = path.join(import.meta.dirname, 'main.cjs')

/** Compiles main.cjs with the cache, writes one when there was none (or it was stale), and runs it. */
function runCached(): void {
  const source = fs.readFileSync(file, 'utf8')
  // V8's flags come from the command line and from NODE_OPTIONS.
  const flags = `${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`
  const key = crypto.createHash('sha256').update(`${process.version}\0${flags}\0`).update(source).digest('hex').slice(0, 16)
  const cacheFile = path.join(import.meta.dirname, `main.${key}.v8-cache`)

  let cachedData: Buffer | undefined
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {
    // none yet
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData,
  })

  if (script.cachedDataRejected !== false) {
    // Written by a run that lasts (a server, once its start has compiled what it needs), so that the
    // cache holds a start's functions and not only a short command's.
    setTimeout(() => {
      const tmp = `${cacheFile}.${process.pid}`
      try {
        fs.writeFileSync(tmp, script.createCachedData())
        fs.renameSync(tmp, cacheFile)
      } catch {
        // A read-only install: every start compiles.
        fs.rmSync(tmp, { force: true })
      }
    }, 3000).unref()
  }

  // The bundle's packages left out of it (PGlite, esbuild) load through this module's import():
  // boot.js sits beside the bundle, so they resolve the same (src/runtime/import-package.ts).
  lendImporter((specifier) => import(specifier))
  const main = new Module(file)
  main.filename = file
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void
  run(main.exports, createRequire(file), main, file, path.dirname(file))
}

// Node maps stack traces to the sources only for modules its own loader compiled.
if (process.sourceMapsEnabled) createRequire(import.meta.url)(file)
else runCached()

// Hosts the embedded PostgreSQL (PGlite) on its own thread so a long query never blocks the
// HTTP event loop. The main thread talks to it through PgliteDriver.
import fs from 'node:fs'
import v8 from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import { hasByteParams, parseWireReply, WireQueryBuilder } from './pglite-wire.ts'

// Liftoff only: without the optimising tier PGlite's WASM takes ~45 MB less memory and, on a small
// machine, runs no slower (tier-up compiles compete with queries for the CPU). docs/operations.md
v8.setFlagsFromString('--liftoff-only')
const { PGlite } = await import('@electric-sql/pglite')

// `node pglite-worker.js --initdb DIR SETTINGS`: creates a fresh data directory in a process of its
// own, so that initdb's few hundred MB go back to the OS when it exits (pglite-dialect.ts).
const initdb = async (dir: string, settings: string[]) => (await PGlite.create(dir, { postgresqlconf: settings })).close()
if (process.argv[2] === '--initdb') {
  await initdb(process.argv[3]!, JSON.parse(process.argv[4]!) as string[])
  process.exit(0)
}

interface Request {
  readonly id: number
  readonly sql: string
  readonly params: readonly unknown[]
}

const port = parentPort
if (!port) throw new Error('pglite-worker must run in a worker thread')

// The thread starts before a new data directory exists: it compiles PGlite's WASM while the main
// thread copies the template, and opens the database on the main thread's first message.
const opened = new Promise<void>((resolve) => port.once('message', () => resolve()))
const pgliteWasm = WebAssembly.compile(fs.readFileSync(new URL('./pglite.wasm', import.meta.resolve('@electric-sql/pglite'))))
await opened
const options = workerData as { dataDir: string; settings: string[] }
const db = await PGlite.create(options.dataDir, { postgresqlconf: options.settings, pgliteWasmModule: await pgliteWasm })
const wire = new WireQueryBuilder()

/** A query with byte parameters, as wire-protocol messages (pglite-wire.ts); it returns no rows. */
const wireQuery = (sql: string, params: readonly unknown[]) =>
  db._runExclusiveQuery(async () => {
    const reply = parseWireReply(await db.execProtocolRaw(wire.build(sql, params)))
    if (reply.error) throw Object.assign(new Error(reply.error.message), reply.error)
    return { rows: [], affectedRows: reply.affectedRows }
  })

port.on('message', async (req: Request | { id: number; close: true }) => {
  if ('close' in req) {
    await db.close()
    port.postMessage({ id: req.id, rows: [] })
    return
  }
  try {
    // Without parameters use the simple protocol, which (like node-postgres) allows several statements.
    const res =
      req.params.length === 0
        ? ((await db.exec(req.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : hasByteParams(req.params)
          ? await wireQuery(req.sql, req.params)
          : await db.query(req.sql, req.params as unknown[])
    port.postMessage({ id: req.id, rows: res.rows, affectedRows: res.affectedRows })
  } catch (err) {
    const e = err as { message?: string; code?: string; detail?: string; constraint?: string }
    port.postMessage({
      id: req.id,
      error: { message: e.message ?? String(err), code: e.code, detail: e.detail, constraint: e.constraint },
    })
  }
})
port.postMessage({ ready: true })

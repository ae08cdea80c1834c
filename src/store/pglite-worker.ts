// Hosts the embedded PostgreSQL (PGlite) on its own thread so a long query never blocks the
// HTTP event loop. The main thread talks to it through PgliteDriver.
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

interface Request {
  readonly id: number
  readonly sql: string
  readonly params: readonly unknown[]
}

const port = parentPort
if (!port) throw new Error('pglite-worker must run in a worker thread')

const db = await PGlite.create(workerData.dataDir as string)

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

import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Worker } from 'node:worker_threads'
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely'
import { copyTemplate } from './pglite-template.ts'
import { siblingModule, startWorker } from '../runtime/worker.ts'

export interface EmbeddedOptions {
  readonly dataDir: string
  /** PostgreSQL settings for the embedded server (`shared_buffers = 8MB`, …). */
  readonly settings: readonly string[]
  /** Where a new data directory is copied from (default: the build's); false runs initdb. */
  readonly template?: string | false
}

const isEmpty = (dir: string) => !fs.existsSync(dir) || fs.readdirSync(dir).length === 0

/**
 * Starts the worker at once (it compiles PGlite's WASM meanwhile), runs `prepare` (a new data
 * directory), then tells the worker to open the database and waits until it has.
 */
async function startPgliteWorker(workerData: EmbeddedOptions, prepare: () => Promise<void>): Promise<Worker> {
  const worker = startWorker(import.meta.url, 'pglite-worker', workerData)
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  ready.catch(() => {}) // awaited below, once prepared
  try {
    await prepare()
  } catch (err) {
    await worker.terminate()
    throw err
  }
  worker.postMessage({ open: true })
  await ready
  return worker
}

interface WorkerReply {
  id: number
  rows?: unknown[]
  affectedRows?: number
  error?: { message: string; code?: string; detail?: string; constraint?: string }
}

/** An error shaped like node-postgres' DatabaseError so callers handle both stores alike. */
export class EmbeddedDatabaseError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
    readonly constraint?: string,
  ) {
    super(message)
  }
}

class WorkerClient {
  private nextId = 1
  private readonly pending = new Map<number, (reply: WorkerReply) => void>()

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: WorkerReply) => {
      const resolve = this.pending.get(msg.id)
      if (resolve) {
        this.pending.delete(msg.id)
        resolve(msg)
      }
    })
  }

  static async start(options: EmbeddedOptions): Promise<WorkerClient> {
    // A fresh data directory is a copy of the build's template; without one, it is created by a
    // process of its own: initdb leaves hundreds of MB behind that only the end of a process gives
    // back to the OS (docs/operations.md, sizing).
    const prepare = async () => {
      if (!fs.existsSync(path.join(options.dataDir, 'PG_VERSION')) && !(isEmpty(options.dataDir) && options.template !== false && (await copyTemplate(options.dataDir, options.template)))) {
        const entry = fileURLToPath(siblingModule(import.meta.url, 'pglite-worker'))
        await promisify(execFile)(process.execPath, [...process.execArgv, entry, '--initdb', options.dataDir, JSON.stringify(options.settings)])
      }
    }
    return new WorkerClient(await startPgliteWorker(options, prepare))
  }

  request(payload: { sql?: string; params?: readonly unknown[]; close?: true }): Promise<WorkerReply> {
    const id = this.nextId++
    // Byte parameters go as copies of exactly their bytes, moved rather than cloned: a Buffer is
    // often a view of a larger allocation, all of which a clone would copy.
    const moved: ArrayBuffer[] = []
    const params = payload.params?.map((p) => {
      if (!(p instanceof Uint8Array)) return p
      const copy = new Uint8Array(p)
      moved.push(copy.buffer)
      return copy
    })
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.worker.postMessage({ id, ...payload, params }, moved)
    })
  }

  async close(): Promise<void> {
    await this.request({ close: true })
    await this.worker.terminate()
  }
}

/** PGlite has one session, so the driver hands out one connection at a time, in order. */
class PgliteDriver implements Driver {
  private client: WorkerClient | undefined
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly options: EmbeddedOptions) {}

  async init(): Promise<void> {
    this.client = await WorkerClient.start(this.options)
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void
    const turn = new Promise<void>((resolve) => (release = resolve))
    const previous = this.queue
    this.queue = previous.then(() => turn)
    await previous
    return new PgliteConnection(this.client!, release)
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin'))
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'))
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    ;(conn as PgliteConnection).release()
  }

  async destroy(): Promise<void> {
    await this.client?.close()
  }
}

class PgliteConnection implements DatabaseConnection {
  constructor(
    private readonly client: WorkerClient,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const reply = await this.client.request({ sql: query.sql, params: query.parameters })
    if (reply.error) {
      const e = reply.error
      throw new EmbeddedDatabaseError(e.message, e.code, e.detail, e.constraint)
    }
    return {
      rows: (reply.rows ?? []) as R[],
      numAffectedRows: reply.affectedRows === undefined ? undefined : BigInt(reply.affectedRows),
    }
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the embedded store')
  }
}

/** PostgreSQL's adapter under its own name, so code can tell an embedded store's queries apart (isEmbedded). */
export class PgliteAdapter extends PostgresAdapter {}

export class PgliteDialect implements Dialect {
  constructor(private readonly options: EmbeddedOptions) {}
  createAdapter() {
    return new PgliteAdapter()
  }
  createDriver(): Driver {
    return new PgliteDriver(this.options)
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler()
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db)
  }
}

import fs from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import pino, { type Logger } from 'pino'
import { migrate } from './migrate.ts'
import { nameStatements, StatementNames } from './prepared-statements.ts'
import { claimTemplateRows } from './template-schema.ts'
import { isDatabaseUnavailable } from './outage.ts'
import { EmbeddedStoreInUseError, lockEmbeddedStore } from './embedded-lock.ts'
import { PgliteAdapter, PgliteDialect } from './pglite-dialect.ts'
import type { Database } from './schema.ts'

export type Db = Kysely<Database>

/** True when `db` (or a transaction of it) is the embedded store. */
export const isEmbedded = (db: Db): boolean => db.getExecutor().adapter instanceof PgliteAdapter

export interface Store {
  readonly db: Db
  readonly kind: 'postgres' | 'embedded'
  /** Connections in use and open (PostgreSQL pool; the embedded store has one session). */
  poolUse(): { readonly inUse: number; readonly open: number; readonly waiting: number }
  close(): Promise<void>
}

// int8 (bigint) columns hold sequence numbers well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v))

/** Thrown when PostgreSQL cannot be reached at start-up within the configured wait. */
/** The store cannot be opened: start-up stops with this one-line message. */
export class StoreOpenError extends Error {}
export class DatabaseUnreachableError extends StoreOpenError {}

/** `postgres://user:secret@host:5432/db` → `host:5432/db`, for messages that must not show the password. */
export function databaseLabel(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || 5432}${u.pathname}`
  } catch {
    return 'the configured DATABASE_URL'
  }
}

/**
 * A pool that survives PostgreSQL going away: every idle and checked-out client has an `error`
 * listener (without one, node-postgres' EventEmitter would take the process down), a broken
 * client is dropped and the next query opens a fresh connection.
 */
function resilientPool(url: string, logger: Logger, prepared: boolean): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000, keepAlive: true })
  const names = prepared ? new StatementNames() : undefined
  let warned = false
  const onError = (err: Error) => {
    // One line per outage, not one per connection.
    if (!warned) logger.warn({ err: err.message }, 'PostgreSQL connection lost; requests get 503 until it is back')
    warned = true
  }
  pool.on('error', onError)
  pool.on('connect', (client) => {
    client.on('error', onError)
    if (names) nameStatements(client, names)
    if (warned) logger.warn('PostgreSQL reachable again')
    warned = false
  })
  return pool
}

async function waitForDatabase(db: Db, url: string, waitSeconds: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000
  let announced = false
  for (;;) {
    try {
      await sql`select 1`.execute(db)
      if (announced) logger.warn(`PostgreSQL at ${databaseLabel(url)} is reachable; starting`)
      return
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      const reason = (err as Error).message || (err as { code?: string }).code || String(err)
      if (Date.now() >= deadline) {
        throw new DatabaseUnreachableError(`cannot reach PostgreSQL at ${databaseLabel(url)} after ${waitSeconds} s (${reason}); is it running?`)
      }
      if (!announced) logger.warn(`waiting up to ${waitSeconds} s for PostgreSQL at ${databaseLabel(url)} (${reason})`)
      announced = true
      await new Promise((r) => setTimeout(r, 500))
    }
  }
}

export interface StoreOptions {
  /** postgres://… for a PostgreSQL server; unset = the embedded store in `<dataDir>/pg`. */
  readonly databaseUrl?: string | undefined
  readonly dataDir: string
  /** Named prepared statements for frequent queries (default true; off behind a pooler that cannot keep them). */
  readonly databasePreparedStatements?: boolean | undefined
  /** How long start-up waits for an unreachable PostgreSQL (default 30 s). */
  readonly databaseWaitSeconds?: number | undefined
  /** The embedded store's shared_buffers (default 8MB). */
  readonly embeddedSharedBuffers?: string | undefined
  /** Called when the store turns out to be brand new, before its schema is made (work to overlap with it). */
  readonly onNewStore?: (() => void) | undefined
}

export async function openStore(
  config: StoreOptions,
  logger: Logger = pino({ level: 'silent' }),
): Promise<Store> {
  let store: Store
  if (config.databaseUrl) {
    const pool = resilientPool(config.databaseUrl, logger, config.databasePreparedStatements ?? true)
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    store = {
      db,
      kind: 'postgres',
      poolUse: () => ({ inUse: pool.totalCount - pool.idleCount, open: pool.totalCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    }
    try {
      await waitForDatabase(db, config.databaseUrl, config.databaseWaitSeconds ?? 30, logger)
    } catch (err) {
      await db.destroy().catch(() => undefined)
      throw err
    }
  } else {
    const dir = embeddedDir(config)
    fs.mkdirSync(dir, { recursive: true })
    const settings = [`shared_buffers = ${config.embeddedSharedBuffers ?? '8MB'}`]
    let unlock: () => void
    try {
      unlock = lockEmbeddedStore(dir)
    } catch (err) {
      if (err instanceof EmbeddedStoreInUseError) throw new StoreOpenError(err.message)
      throw err
    }
    // The data directory is made (copied from the template) at the first query, in migrate.
    if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) config.onNewStore?.()
    const db = new Kysely<Database>({ dialect: new PgliteDialect({ dataDir: dir, settings }) })
    store = { db, kind: 'embedded', poolUse: () => ({ inUse: 0, open: 1, waiting: 0 }), close: () => db.destroy().finally(unlock) }
  }
  try {
    // A new PostgreSQL database is one without migrations (the embedded store's template has them all).
    await migrate(store.db, config.databaseUrl ? config.onNewStore : undefined)
    await claimTemplateRows(store.db)
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  return store
}

/** Where the embedded store keeps its PostgreSQL data directory. */
const embeddedDir = (o: StoreOptions) => path.join(o.dataDir, 'pg')

/** True when the error is a unique-constraint violation (both stores report SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505'
}

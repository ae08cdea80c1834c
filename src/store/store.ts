import fs from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { migrate } from './migrate.ts'
import { PgliteDialect } from './pglite-dialect.ts'
import type { Database } from './schema.ts'

export type Db = Kysely<Database>

export interface Store {
  readonly db: Db
  readonly kind: 'postgres' | 'embedded'
  close(): Promise<void>
}

// int8 (bigint) columns hold sequence numbers well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v))

export interface StoreOptions {
  /** postgres://… for a PostgreSQL server; unset = the embedded store in `<dataDir>/pg`. */
  readonly databaseUrl?: string | undefined
  readonly dataDir: string
}

export async function openStore(config: StoreOptions): Promise<Store> {
  let db: Db
  let kind: Store['kind']
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 })
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    kind = 'postgres'
  } else {
    const dir = path.join(config.dataDir, 'pg')
    fs.mkdirSync(dir, { recursive: true })
    db = new Kysely<Database>({ dialect: new PgliteDialect(dir) })
    kind = 'embedded'
  }
  await migrate(db)
  return { db, kind, close: () => db.destroy() }
}

/** True when the error is a unique-constraint violation (both stores report SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505'
}

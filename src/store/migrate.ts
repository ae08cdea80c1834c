import { sql, type Kysely } from 'kysely'
import type { Database } from './schema.ts'
import * as m0001 from './migrations/0001-foundation.ts'
import * as m0002 from './migrations/0002-audit.ts'
import * as m0003 from './migrations/0003-apps-tasks.ts'
import * as m0004 from './migrations/0004-logs.ts'
import * as m0005 from './migrations/0005-quotas.ts'
import * as m0006 from './migrations/0006-export.ts'
import * as m0007 from './migrations/0007-trail.ts'
import * as m0008 from './migrations/0008-blob-refs.ts'
import * as m0009 from './migrations/0009-platform.ts'
import * as m0010 from './migrations/0010-cluster.ts'
import * as m0011 from './migrations/0011-ledger-log.ts'
import * as m0012 from './migrations/0012-events-actor.ts'
import * as m0013 from './migrations/0013-blob-chunks.ts'
import * as m0014 from './migrations/0014-collect.ts'
import * as m0015 from './migrations/0015-event-count-deltas.ts'
import * as m0016 from './migrations/0016-export-positions.ts'
import * as m0017 from './migrations/0017-unlocked-appends.ts'

interface Migration {
  readonly name: string
  up(db: Kysely<unknown>): Promise<void>
}

interface Versioned {
  readonly version: number
  readonly migration: Migration
}

/** Forward-only, in order; the pending ones run in one transaction, each with its bookkeeping row. */
const MIGRATIONS: readonly Versioned[] = [
  { version: 1, migration: m0001 },
  { version: 2, migration: m0002 },
  { version: 3, migration: m0003 },
  { version: 4, migration: m0004 },
  { version: 5, migration: m0005 },
  { version: 6, migration: m0006 },
  { version: 7, migration: m0007 },
  { version: 8, migration: m0008 },
  { version: 9, migration: m0009 },
  { version: 10, migration: m0010 },
  { version: 11, migration: m0011 },
  { version: 12, migration: m0012 },
  { version: 13, migration: m0013 },
  { version: 14, migration: m0014 },
  { version: 15, migration: m0015 },
  { version: 16, migration: m0016 },
  { version: 17, migration: m0017 },
]

/** The schema version a fully migrated store has (/readyz). */
export const LATEST_MIGRATION = MIGRATIONS.at(-1)!.version

/** `onNewDatabase` runs, before any migration, when the database has none applied yet. */
export async function migrate(db: Kysely<Database>, onNewDatabase?: () => void): Promise<number> {
  // All pending migrations in one transaction: a new store takes one commit instead of one per
  // migration (on the embedded store each commit is a WAL flush through the WASM file system), and
  // an upgrade lands whole or not at all.
  return db.transaction().execute(async (tx) => {
    // Serialises concurrent starters against one PostgreSQL database; without it servers starting
    // together on a new database would also race on `create table if not exists` (not atomic).
    await sql`select pg_advisory_xact_lock(424242)`.execute(tx)
    await sql`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`.execute(tx)
    const done = new Set((await tx.selectFrom('schema_migrations').select('version').execute()).map((r) => r.version))
    if (done.size === 0) onNewDatabase?.()
    let applied = 0
    for (const { version, migration } of MIGRATIONS) {
      if (done.has(version)) continue
      await migration.up(tx as unknown as Kysely<unknown>)
      await tx.insertInto('schema_migrations').values({ version, name: migration.name }).execute()
      applied++
    }
    return applied
  })
}

/** The newest migration applied to this store (0 before the first); throws when the database does not answer. */
export async function appliedMigrationVersion(db: Kysely<Database>): Promise<number> {
  const r = await sql<{ v: number | null }>`select max(version) as v from schema_migrations`.execute(db)
  return Number(r.rows[0]?.v ?? 0)
}

// The build's template (pglite-template.ts) holds cf-ledger's migrated schema, so a new embedded
// store starts without initdb or sixteen migrations. The few rows the migrations write that must
// differ between stores (the environment variable groups' guids and creation times, the export
// cursor's time) are marked in the template and given each store's own values when it opens.
import fs from 'node:fs'
import { Kysely, sql } from 'kysely'
import { migrate } from './migrate.ts'
import { PgliteDialect } from './pglite-dialect.ts'
import type { Database } from './schema.ts'

const MARK = 'template-'

/** `cf-ledger build-template DIR` (`npm run template`): initdb, migrate, mark; renamed into place whole. */
export async function buildTemplate(target: string): Promise<void> {
  const partial = `${target}.partial`
  fs.rmSync(partial, { recursive: true, force: true })
  const db = new Kysely<Database>({ dialect: new PgliteDialect({ dataDir: partial, settings: [], template: false }) })
  try {
    await migrate(db)
    await markAsTemplate(db)
  } finally {
    await db.destroy()
  }
  fs.rmSync(target, { recursive: true, force: true })
  fs.renameSync(partial, target)
}

/** Marks the per-store rows of a migrated database that new stores will be copied from. */
export async function markAsTemplate(db: Kysely<Database>): Promise<void> {
  await sql`update environment_variable_groups set guid = ${MARK} || name`.execute(db)
  await sql`update export_cursors set updated_at = 'epoch'`.execute(db)
}

/** Gives a store copied from the template its own guids and times; a no-op on every later open. */
export async function claimTemplateRows(db: Kysely<Database>): Promise<void> {
  await sql`update environment_variable_groups set guid = gen_random_uuid()::text, created_at = now(), updated_at = now() where guid like ${MARK + '%'}`.execute(db)
  await sql`update export_cursors set updated_at = now() where updated_at = 'epoch'`.execute(db)
}

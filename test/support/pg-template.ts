// A migrated PostgreSQL database that the tests' fresh databases are created from
// (`create database … template …`), as the embedded stores are copied from the build's template:
// each fresh database then skips the migrations and claims its own guids at first open.
import pg from 'pg'
import { openStore } from '../../src/store/store.ts'
import { markAsTemplate } from '../../src/store/template-schema.ts'

export const TEMPLATE_DATABASE = 'cf_ledger_test_template'

/** Creates (again) the template database on the server at `baseUrl` and returns its name. */
export async function createMigratedTemplate(baseUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE}`)
    await admin.query(`create database ${TEMPLATE_DATABASE}`)
  } finally {
    await admin.end()
  }
  const store = await openStore({ databaseUrl: baseUrl.replace(/\/[^/]*$/, `/${TEMPLATE_DATABASE}`), dataDir: '' })
  try {
    await markAsTemplate(store.db)
  } finally {
    await store.close()
  }
  return TEMPLATE_DATABASE
}

import type { EnvironmentVariableGroupRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

export async function findEnvironmentVariableGroup(db: Db, name: string): Promise<EnvironmentVariableGroupRow | undefined> {
  return db.selectFrom('environment_variable_groups').selectAll().where('name', '=', name).executeTakeFirst()
}

/** The running group's variables, which every task's environment includes (as CC's apps and tasks). */
export async function runningGroupVariables(db: Db): Promise<Record<string, string>> {
  return (await findEnvironmentVariableGroup(db, 'running'))?.var ?? {}
}

let since: Date | undefined
/** When this store was created: the created_at of the fixed stack, buildpack and domain. */
export async function platformSince(db: Db): Promise<Date> {
  if (!since) {
    const row = await db.selectFrom('schema_migrations').select('applied_at').where('version', '=', 1).executeTakeFirst()
    since = row ? new Date(row.applied_at as unknown as string) : new Date(0)
  }
  return since
}

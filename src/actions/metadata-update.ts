// Metadata-only updates CC records no audit event for (PATCH /v3/users/:guid and
// /v3/tasks/:guid with only `metadata`): one statement each, so no transaction is needed.
import type { TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

type MetadataValues = { labels: Record<string, string>; annotations: Record<string, string> }

const columns = (meta: MetadataValues) => ({ labels: JSON.stringify(meta.labels), annotations: JSON.stringify(meta.annotations), updated_at: new Date() })

export async function updateUserMetadata(db: Db, guid: string, meta: MetadataValues): Promise<void> {
  await db.updateTable('users').set(columns(meta)).where('guid', '=', guid).execute()
}

export function updateTaskMetadata(db: Db, guid: string, meta: MetadataValues): Promise<TaskRow> {
  return db.updateTable('tasks').set(columns(meta)).where('guid', '=', guid).returningAll().executeTakeFirstOrThrow()
}

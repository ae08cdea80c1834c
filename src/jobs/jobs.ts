import type { Actor } from '../auth/principal.ts'
import type { Db } from '../store/store.ts'
import { newGuid } from '../store/ids.ts'

export interface JobRequest {
  readonly operation: string
  readonly resourceType: string
  readonly resourceGuid: string
  readonly actor: Actor
}

/** Inserts a PROCESSING job inside the caller's transaction; run it after commit. */
export async function insertJob(tx: Db, req: JobRequest): Promise<string> {
  const guid = newGuid()
  const now = new Date()
  await tx
    .insertInto('jobs')
    .values({
      guid,
      operation: req.operation,
      state: 'PROCESSING',
      resource_type: req.resourceType,
      resource_guid: req.resourceGuid,
      actor: JSON.stringify(req.actor),
      errors: '[]',
      warnings: '[]',
      created_at: now,
      updated_at: now,
    })
    .execute()
  return guid
}

export function findJob(db: Db, guid: string) {
  return db.selectFrom('jobs').selectAll().where('guid', '=', guid).executeTakeFirst()
}

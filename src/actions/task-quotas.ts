import { unprocessable } from '../errors/api-error.ts'
import type { SpaceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'

const ACTIVE = ['PENDING', 'RUNNING'] as const

async function usage(tx: Db, column: 'space_guid' | 'organization_guid', guid: string) {
  const r = await tx
    .selectFrom('tasks')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.coalesce(eb.fn.sum<number>('memory_in_mb'), eb.val(0)).as('memory')])
    .where(column, '=', guid)
    .where('state', 'in', [...ACTIVE])
    .executeTakeFirstOrThrow()
  return { count: Number(r.count), memory: Number(r.memory) }
}

/**
 * CC's task quota policies: app_task_limit counts PENDING and RUNNING tasks; memory adds the new
 * task to what active tasks use (long-running processes do not run here, so they use none).
 * Runs inside the create transaction, after the app row lock.
 */
export async function checkTaskQuotas(tx: Db, space: SpaceRow, org: { guid: string; quota_guid: string | null }, memoryInMb: number): Promise<void> {
  const orgQuota = org.quota_guid
    ? await tx.selectFrom('organization_quotas').selectAll().where('guid', '=', org.quota_guid).executeTakeFirst()
    : undefined
  const spaceQuota = space.quota_guid
    ? await tx.selectFrom('space_quotas').selectAll().where('guid', '=', space.quota_guid).executeTakeFirst()
    : undefined
  const checks = [
    { quota: spaceQuota, scope: 'space' as const, column: 'space_guid' as const, guid: space.guid },
    { quota: orgQuota, scope: 'organization' as const, column: 'organization_guid' as const, guid: org.guid },
  ]
  for (const { quota, scope, column, guid } of checks) {
    if (!quota) continue
    if (quota.per_process_memory_in_mb !== null && quota.per_process_memory_in_mb >= 0 && memoryInMb > quota.per_process_memory_in_mb) {
      throw unprocessable(`memory_in_mb exceeds ${scope} instance memory quota`)
    }
    const used = await usage(tx, column, guid)
    if (quota.total_memory_in_mb !== null && quota.total_memory_in_mb >= 0 && used.memory + memoryInMb > quota.total_memory_in_mb) {
      throw unprocessable(`memory_in_mb exceeds ${scope} memory quota`)
    }
    if (quota.app_task_limit !== null && quota.app_task_limit >= 0 && quota.app_task_limit <= used.count) {
      throw unprocessable('app_task_limit quota exceeded')
    }
  }
}

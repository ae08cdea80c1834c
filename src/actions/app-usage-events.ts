import type { TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { newGuid } from '../store/ids.ts'

/**
 * CC's AppUsageEventRepository#create_from_task: TASK_STARTED when a task starts running,
 * TASK_STOPPED when a task that started ends (once each: a unique index on task and state).
 * Written in the caller's transaction, beside the state change.
 */
export async function recordTaskUsage(tx: Db, task: TaskRow, state: 'TASK_STARTED' | 'TASK_STOPPED', previousState: string): Promise<void> {
  await tx
    .insertInto('app_usage_events')
    .values({
      guid: newGuid(),
      state,
      previous_state: previousState,
      app_guid: task.app_guid,
      app_name: task.target_names.app,
      space_guid: task.space_guid,
      space_name: task.target_names.space,
      org_guid: task.organization_guid,
      task_guid: task.guid,
      task_name: task.name,
      memory_in_mb_per_instance: task.memory_in_mb,
      instance_count: 1,
    })
    .onConflict((oc) => oc.columns(['task_guid', 'state']).where('task_guid', 'is not', null).doNothing())
    .execute()
}

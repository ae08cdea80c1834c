import { unprocessable } from '../errors/api-error.ts'
import type { TaskRow } from '../store/schema.ts'
import type { ActionContext } from './context.ts'
import { recordTaskCancel } from './events/task.ts'

/**
 * CC's TaskCancel: CANCELING and `audit.app.task.cancel` in one transaction; the caller then asks
 * the executor to stop it. Cancelling a cancelling task again is a no-op, as in CC.
 */
export async function cancelTask(ctx: ActionContext, guid: string): Promise<TaskRow> {
  return ctx.db.transaction().execute(async (tx) => {
    const task = await tx.selectFrom('tasks').selectAll().where('guid', '=', guid).forUpdate().executeTakeFirstOrThrow()
    if (task.state === 'SUCCEEDED' || task.state === 'FAILED') {
      throw unprocessable(`Task state is ${task.state} and therefore cannot be canceled`)
    }
    if (task.state === 'CANCELING') return task
    const updated = await tx
      .updateTable('tasks')
      .set({ state: 'CANCELING', updated_at: new Date() })
      .where('guid', '=', guid)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordTaskCancel(tx, updated, ctx.actor)
    return updated
  })
}

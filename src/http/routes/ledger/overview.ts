// Figures for the console's overview page (docs/console.md#overview): task runs per day by state,
// failures by app and the busiest actors over the spaces the caller can read, and the ledger's size
// and newest checkpoint.
import { z } from 'zod'
import { latestCheckpoint, logState } from '../../../ledger/log-store.ts'
import { taskOverview } from '../../../queries/overview.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route, route } from '../../route.ts'

const DAY_MS = 86_400_000
const overviewQuery = z
  .object({
    days: z
      .string()
      .regex(/^\d+$/, { message: 'days must be an integer between 1 and 366' })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 366, { message: 'days must be an integer between 1 and 366' })
      .meta({ type: 'integer', minimum: 1, maximum: 366 })
      .optional(),
  })
  .strict()

export function ledgerOverviewRoutes(deps: { db: Db }): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/ledger/v1/overview',
      summary:
        'Task runs per day by state, failures by app, busiest actors, ledger size and checkpoint age (extension)',
      tag: 'Ledger',
      auth: 'read',
      query: overviewQuery,
      async handler(ctx) {
        const days = ctx.query.days ?? 14
        const now = Date.now()
        const since = new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS)
        const [tasks, log, checkpoint] = await Promise.all([
          taskOverview(db, ctx.perms, since, 10),
          logState(db),
          latestCheckpoint(db),
        ])
        return ok({
          since: since.toISOString(),
          days,
          task_runs_per_day: tasks.days,
          failures_by_app: tasks.failuresByApp,
          busiest_actors: tasks.busiestActors,
          // The Merkle log: its leaves (events and task-run records) and newest signed checkpoint.
          ledger: {
            leaves: log.size,
            checkpoint: checkpoint
              ? {
                  size: checkpoint.size,
                  signed_at: checkpoint.signed_at.toISOString(),
                  age_seconds: Math.max(
                    0,
                    Math.round((now - checkpoint.signed_at.getTime()) / 1000),
                  ),
                }
              : null,
          },
        })
      },
    }),
  ]
}

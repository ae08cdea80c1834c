import { findJob } from '../../../jobs/jobs.ts'
import { notFound } from '../../../errors/api-error.ts'
import { presentJob } from '../../../presenters/v3/user.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type Route, route } from '../../route.ts'

export function jobRoutes(deps: { db: Db }): Route[] {
  return [
    route({
      method: 'GET',
      url: '/v3/jobs/:guid',
      summary: 'Get an asynchronous job (poll until COMPLETE or FAILED)',
      tag: 'Jobs',
      auth: 'read',
      async handler(ctx) {
        const job = await findJob(deps.db, ctx.params.guid!)
        // Jobs carry no space; CC shows a job to the user who started it and to global readers.
        const starter = (job?.actor as { guid?: string } | undefined)?.guid
        if (!job || (!ctx.perms.canReadGlobally && starter !== ctx.principal.guid && starter !== ctx.principal.clientId)) {
          throw notFound('Job')
        }
        return ok(presentJob(job, ctx.baseUrl))
      },
    }),
  ]
}

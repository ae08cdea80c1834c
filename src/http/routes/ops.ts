import type { Principal } from '../../auth/principal.ts'
import type { Permissions } from '../../authz/permissions.ts'
import { apiError } from '../../errors/api-error.ts'
import type { Metrics } from '../../ops/metrics.ts'
import { appliedMigrationVersion, LATEST_MIGRATION } from '../../store/migrate.ts'
import type { Db } from '../../store/store.ts'
import type { Route, RouteContext } from '../route.ts'
import { route } from '../route.ts'

/** Who may read /metrics: `admin` (a CC admin, admin read-only or global auditor token, or the metrics token), `public`, or `off`. */
export type MetricsAccess = 'admin' | 'public' | 'off'

export interface OpsDeps {
  readonly db: Db
  readonly metrics: Metrics
  readonly access: MetricsAccess
  /** A fixed bearer secret a scraper may send instead of a UAA token. */
  readonly token: string | undefined
  authenticate(token: string): Promise<Principal | undefined>
  loadPermissions(principal: Principal): Promise<Permissions>
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' }

/** Load-balancer and scraper endpoints (docs/operations.md). */
export function opsRoutes(deps: OpsDeps): Route[] {
  async function mayScrape(ctx: RouteContext): Promise<void> {
    if (deps.access === 'public') return
    if (deps.access === 'off') throw apiError('NotFound')
    const header = String(ctx.request.headers.authorization ?? '')
    const m = /^bearer\s+(.+)$/i.exec(header.trim())
    if (!m) throw apiError('NotAuthenticated')
    if (deps.token && m[1] === deps.token) return
    const principal = await deps.authenticate(m[1]!)
    if (!principal) throw apiError('InvalidAuthToken')
    if (!(await deps.loadPermissions(principal)).canReadGlobally) throw apiError('NotAuthorized')
  }

  return [
    route({
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness: the process is up and serving HTTP',
      tag: 'Operations',
      auth: 'none',
      async handler() {
        return { status: 200, body: 'ok\n', headers: TEXT }
      },
    }),
    route({
      method: 'GET',
      url: '/readyz',
      summary: 'Readiness: the database answers and its migrations are applied (503 otherwise)',
      tag: 'Operations',
      auth: 'none',
      async handler() {
        try {
          if ((await appliedMigrationVersion(deps.db)) < LATEST_MIGRATION) return { status: 503, body: 'migrations pending\n', headers: TEXT }
          return { status: 200, body: 'ready\n', headers: TEXT }
        } catch {
          return { status: 503, body: 'database unavailable\n', headers: { ...TEXT, 'retry-after': '2' } }
        }
      },
    }),
    route({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics (text exposition format); access set by CF_LEDGER_METRICS',
      tag: 'Operations',
      auth: 'none',
      async handler(ctx) {
        await mayScrape(ctx)
        return { status: 200, body: await deps.metrics.render(), headers: { 'content-type': deps.metrics.contentType } }
      },
    }),
  ]
}

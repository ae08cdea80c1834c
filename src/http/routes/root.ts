import { ok, type Route, route } from '../route.ts'

/** The Cloud Controller API version whose behaviour this server implements (see docs/api-version.md). */
export const CC_API_VERSION = '3.200.0'
export const CC_V2_API_VERSION = '2.250.0'

const V3_RESOURCES = ['apps', 'audit_events', 'info', 'jobs', 'organizations', 'roles', 'spaces', 'tasks', 'users'] as const

export function rootRoutes(): Route[] {
  return [
    route({
      method: 'GET',
      url: '/',
      summary: 'Root document: where the CC, UAA and log-cache APIs live',
      tag: 'Root',
      auth: 'none',
      async handler(ctx) {
        const a = ctx.baseUrl
        return ok({
          links: {
            self: { href: a },
            bits_service: null,
            cloud_controller_v2: { href: `${a}/v2`, meta: { version: CC_V2_API_VERSION } },
            cloud_controller_v3: { href: `${a}/v3`, meta: { version: CC_API_VERSION } },
            network_policy_v0: null,
            network_policy_v1: null,
            login: { href: a },
            uaa: { href: a },
            credhub: null,
            routing: null,
            logging: null,
            log_cache: { href: a },
            log_stream: null,
            app_ssh: null,
          },
        })
      },
    }),
    route({
      method: 'GET',
      url: '/v3',
      summary: 'v3 links',
      tag: 'Root',
      auth: 'none',
      async handler(ctx) {
        const links: Record<string, { href: string }> = { self: { href: `${ctx.baseUrl}/v3` } }
        for (const r of V3_RESOURCES) links[r] = { href: `${ctx.baseUrl}/v3/${r}` }
        return ok({ links })
      },
    }),
    route({
      method: 'GET',
      url: '/v3/info',
      summary: 'Platform information',
      tag: 'Root',
      auth: 'none',
      async handler(ctx) {
        return ok({
          build: '',
          cli_version: { minimum: '', recommended: '' },
          custom: {},
          description: 'cf-ledger: a Cloud Controller-compatible task runner with a tamper-evident audit ledger',
          name: 'cf-ledger',
          version: 0,
          osbapi_version: '2.15',
          // As a configured CC renders them (integers); cf-ledger applies no rate limit, hence enabled: false.
          rate_limits: { enabled: false, general_limit: 2000, reset_interval_in_minutes: 60 },
          links: { self: { href: `${ctx.baseUrl}/v3/info` }, support: { href: '' } },
        })
      },
    }),
    route({
      method: 'GET',
      url: '/v2/info',
      summary: 'v2 platform information',
      tag: 'Root',
      auth: 'none',
      errors: 'v2',
      async handler(ctx) {
        return ok({
          name: 'cf-ledger',
          build: '',
          support: '',
          version: 0,
          description: '',
          authorization_endpoint: ctx.baseUrl,
          token_endpoint: ctx.baseUrl,
          min_cli_version: null,
          min_recommended_cli_version: null,
          api_version: CC_V2_API_VERSION,
          osbapi_version: '2.15',
        })
      },
    }),
  ]
}

import type { LogConfig } from '../../../logs/config.ts'
import type { LogPipeline, LogRouteDeps } from '../../../logs/pipeline.ts'
import type { Route } from '../../route.ts'
import { serviceCredentialBindingRoutes } from '../v3/service-credential-bindings.ts'
import { serviceInstanceRoutes } from '../v3/service-instances.ts'
import { logCacheRoutes } from './log-cache.ts'
import { streamRoutes } from './streams.ts'

/** The log-cache API, live streams, task output and the service routes that carry syslog drains. */
export function logRoutes(pipeline: LogPipeline, deps: LogRouteDeps, cfg: LogConfig): Route[] {
  const drainsChanged = () => pipeline.drains.reload()
  return [
    ...logCacheRoutes(pipeline, deps),
    ...streamRoutes(pipeline, deps, cfg),
    ...serviceInstanceRoutes({ db: deps.db, drainsChanged, policy: pipeline.drains.policy }),
    ...serviceCredentialBindingRoutes({ db: deps.db, drainsChanged }),
  ]
}

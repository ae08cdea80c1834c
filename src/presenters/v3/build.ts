import type { BuildDetails } from '../../queries/builds.ts'
import type { BuildRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

/** CC's BuildPresenter. */
export function presentBuild(b: BuildRow, details: BuildDetails, baseUrl: string) {
  const staged = b.droplet_guid && (b.state === 'STAGED' || b.state === 'FAILED')
  return {
    guid: b.guid,
    created_at: timestamp(b.created_at),
    updated_at: timestamp(b.updated_at),
    state: b.state,
    staging_memory_in_mb: details.staging.memory_in_mb,
    staging_disk_in_mb: details.staging.disk_in_mb,
    staging_log_rate_limit_bytes_per_second: details.staging.log_rate_limit_bytes_per_second,
    error: b.error,
    lifecycle: details.lifecycle,
    package: { guid: b.package_guid },
    droplet: staged ? { guid: b.droplet_guid } : null,
    created_by: details.createdBy,
    relationships: { app: { data: { guid: b.app_guid } } },
    metadata: metadataOf(b),
    links: {
      self: { href: `${baseUrl}/v3/builds/${b.guid}` },
      app: { href: `${baseUrl}/v3/apps/${b.app_guid}` },
      ...(staged ? { droplet: { href: `${baseUrl}/v3/droplets/${b.droplet_guid}` } } : {}),
    },
  }
}

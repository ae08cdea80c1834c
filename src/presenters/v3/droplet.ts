import type { BuildLifecycle } from '../../queries/builds.ts'
import type { DropletRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'


/**
 * CC's DropletPresenter. `process_types` and `execution_metadata` are secrets: shown to those who
 * may read secrets in the space, replaced by `censored` otherwise (lists always censor).
 */
export function presentDroplet(d: DropletRow, lifecycle: BuildLifecycle, baseUrl: string, censored?: string) {
  const app = `${baseUrl}/v3/apps/${d.app_guid}`
  return {
    guid: d.guid,
    created_at: timestamp(d.created_at),
    updated_at: timestamp(d.updated_at),
    state: d.state,
    error: null,
    lifecycle: { type: lifecycle.type, data: {} },
    checksum: d.sha256 ? { type: 'sha256', value: d.sha256 } : null,
    buildpacks: lifecycle.data.buildpacks.map((name) => ({ name, detect_output: null, buildpack_name: null, version: null })),
    stack: lifecycle.data.stack,
    image: null,
    execution_metadata: censored ?? d.execution_metadata,
    process_types: censored ? { redacted_message: censored } : d.process_types,
    relationships: { app: { data: { guid: d.app_guid } } },
    metadata: metadataOf(d),
    links: {
      self: { href: `${baseUrl}/v3/droplets/${d.guid}` },
      app: { href: app },
      assign_current_droplet: { href: `${app}/relationships/current_droplet`, method: 'PATCH' },
      ...(d.package_guid ? { package: { href: `${baseUrl}/v3/packages/${d.package_guid}` } } : {}),
      ...(d.state === 'STAGED' ? { download: { href: `${baseUrl}/v3/droplets/${d.guid}/download` } } : {}),
    },
  }
}

/** `GET/PATCH /v3/apps/:guid/relationships/current_droplet`. */
export function presentCurrentDropletRelationship(appGuid: string, dropletGuid: string, baseUrl: string) {
  const app = `${baseUrl}/v3/apps/${appGuid}`
  return {
    data: { guid: dropletGuid },
    links: { self: { href: `${app}/relationships/current_droplet` }, related: { href: `${app}/droplets/current` } },
  }
}

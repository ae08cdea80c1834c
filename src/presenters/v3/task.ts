import type { TaskRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

/** CC's TaskPresenter; without `showCommand` the `command` key is left out, as CC does. */
export function presentTask(t: TaskRow, baseUrl: string, showCommand: boolean) {
  const self = `${baseUrl}/v3/tasks/${t.guid}`
  return {
    guid: t.guid,
    sequence_id: t.sequence_id,
    name: t.name,
    ...(showCommand ? { command: t.command } : {}),
    user: 'vcap',
    state: t.state,
    memory_in_mb: t.memory_in_mb,
    disk_in_mb: t.disk_in_mb,
    log_rate_limit_in_bytes_per_second: t.log_rate_limit_in_bytes_per_second,
    result: { failure_reason: t.failure_reason },
    droplet_guid: t.droplet_guid,
    metadata: metadataOf(t),
    created_at: timestamp(t.created_at),
    updated_at: timestamp(t.updated_at),
    relationships: { app: { data: { guid: t.app_guid } } },
    links: {
      self: { href: self },
      app: { href: `${baseUrl}/v3/apps/${t.app_guid}` },
      cancel: { href: `${self}/actions/cancel`, method: 'POST' },
      droplet: { href: `${baseUrl}/v3/droplets/${t.droplet_guid}` },
    },
  }
}

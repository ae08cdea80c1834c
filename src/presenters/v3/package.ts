import type { PackageRow } from '../../store/schema.ts'
import { metadataOf, timestamp } from '../fields.ts'

/** CC's PackagePresenter (bits packages; cf-ledger has no docker packages). */
export function presentPackage(p: PackageRow, baseUrl: string) {
  const self = `${baseUrl}/v3/packages/${p.guid}`
  return {
    guid: p.guid,
    created_at: timestamp(p.created_at),
    updated_at: timestamp(p.updated_at),
    type: p.type,
    data: { error: null, checksum: { type: 'sha256', value: p.sha256 } },
    state: p.state,
    relationships: { app: { data: { guid: p.app_guid } } },
    metadata: metadataOf(p),
    links: {
      self: { href: self },
      upload: { href: `${self}/upload`, method: 'POST' },
      download: { href: `${self}/download`, method: 'GET' },
      app: { href: `${baseUrl}/v3/apps/${p.app_guid}` },
    },
  }
}

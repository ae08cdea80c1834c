// The drain schemes the syslog agent drains, one row each: default port, TLS, transport and how
// envelopes are batched. Adding a scheme is one transport file and one row here (docs/logs.md).
import type { LogConfig } from '../config.ts'
import { HttpsTransport } from './https-transport.ts'
import { SyslogTransport } from './syslog-transport.ts'
import type { Transport, TransportOptions } from './transport.ts'

export interface SchemeSpec {
  readonly defaultPort: number
  readonly tls: boolean
  readonly transport: new (o: TransportOptions) => Transport
  /**
   * `stream`: as many envelopes as are waiting (up to 4096, 256 KiB) per write; `single`: one per
   * request; `batch`: wait for `drainBatchBytes` or `drainBatchMs`, whichever comes first.
   */
  readonly batching: 'stream' | 'single' | 'batch'
}

export const SCHEMES: Readonly<Record<string, SchemeSpec>> = {
  syslog: { defaultPort: 514, tls: false, transport: SyslogTransport, batching: 'stream' },
  'syslog-tls': { defaultPort: 6514, tls: true, transport: SyslogTransport, batching: 'stream' },
  https: { defaultPort: 443, tls: true, transport: HttpsTransport, batching: 'single' },
  'https-batch': { defaultPort: 443, tls: true, transport: HttpsTransport, batching: 'batch' },
}

export const DRAIN_SCHEMES = Object.keys(SCHEMES)

/** The most envelopes and bytes one send of this batching takes. */
export function batchLimits(batching: SchemeSpec['batching'], cfg: LogConfig): { lines: number; bytes: number } {
  if (batching === 'single') return { lines: 1, bytes: 256 * 1024 }
  return { lines: 4096, bytes: batching === 'batch' ? cfg.drainBatchBytes : 256 * 1024 }
}

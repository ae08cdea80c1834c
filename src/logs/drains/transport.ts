// What a drain transport is: it sends batches of envelopes to one drain URL. One file per
// transport beside this one; schemes.ts says which scheme uses which.
import type { LogConfig } from '../config.ts'
import type { Envelope } from '../envelope.ts'
import type { DrainPolicy } from './policy.ts'

export interface ParsedDrainUrl {
  /** A key of SCHEMES (schemes.ts). */
  readonly scheme: string
  readonly host: string
  readonly port: number
  readonly url: URL
  /** `drain-type=metrics` sends no logs; `disable-metadata`/`omit-metadata` drop the tags SD. */
  readonly logs: boolean
  readonly withMetadata: boolean
}


export interface Transport {
  /** Sends the batch; resolves once written. Throws on failure (the batch is sent again). */
  send(batch: readonly Envelope[]): Promise<void>
  readonly connected: boolean
  close(): void
}


/** What every transport is built from. */
export interface TransportOptions {
  readonly target: ParsedDrainUrl
  /** From the scheme's row: connect with TLS. */
  readonly tls: boolean
  readonly creds: Readonly<Record<string, unknown>>
  readonly cfg: LogConfig
  readonly policy: DrainPolicy
  /** Called when a connection (or request) succeeds after failures. */
  readonly onConnect: () => void
}

/** A failure that sending again will not fix (an HTTP 4xx): the batch is counted as lost. */
export class PermanentFailure extends Error {}
/** The address policy refuses the drain (policy.ts). */
export class Refused extends Error {}


export function tlsOptions(creds: Readonly<Record<string, unknown>>, skipVerify: boolean) {
  const str = (k: string) => (typeof creds[k] === 'string' && creds[k] ? (creds[k] as string) : undefined)
  return { ca: str('ca'), cert: str('cert'), key: str('key'), rejectUnauthorized: !skipVerify }
}


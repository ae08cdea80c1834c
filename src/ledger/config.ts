// Configuration of the verifiable ledger (docs/ledger.md); read from the environment, see the
// README's settings table.
import { type Env, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'
import { parseAnyVkey } from './checkpoint.ts'
import { NoteError } from './note.ts'

export interface WitnessConfig {
  /** The witness's cosignature vkey (type 0x04). */
  readonly vkey: string
  /** The submission prefix; add-checkpoint is POSTed to `<url>/add-checkpoint`. */
  readonly url: string
}

export interface LedgerConfig {
  /** The checkpoint origin and log key name; default `cf-ledger/<host of the public URL or "local">`. */
  readonly origin: string | undefined
  /** The log's signer key, `PRIVATE+KEY+…` (Go sumdb/note form); default: generated once, kept in the store. */
  readonly logKey: string | undefined
  /** Milliseconds between integrator passes. */
  readonly integrateIntervalMs: number
  /** At most one checkpoint per this many milliseconds, and only when new leaves exist. */
  readonly checkpointIntervalMs: number
  readonly witnesses: readonly WitnessConfig[]
}

/** CF_LEDGER_WITNESSES: space- or comma-separated `<vkey>=<url>` pairs. */
export function parseWitnesses(value: string | undefined): WitnessConfig[] {
  if (!value?.trim()) return []
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=')
      const vkey = pair.slice(0, at)
      const url = pair.slice(at + 1).replace(/\/+$/, '')
      if (at < 0 || !/^https?:\/\//.test(url)) throw new Error(`CF_LEDGER_WITNESSES: '${pair}' is not <vkey>=<http(s) url>`)
      try {
        parseAnyVkey(vkey)
      } catch (err) {
        throw new Error(`CF_LEDGER_WITNESSES: bad witness key '${vkey}': ${(err as NoteError).message}`)
      }
      return { vkey, url }
    })
}

export function loadLedgerConfig(env: Env): LedgerConfig {
  const get = reader(env)
  return {
    origin: get(S.logOrigin),
    logKey: get(S.logKey),
    integrateIntervalMs: get(S.integrateInterval),
    checkpointIntervalMs: get(S.logCheckpointInterval),
    witnesses: parseWitnesses(get(S.witnesses)),
  }
}

// Configuration of the verifiable ledger (docs/ledger.md); read from the environment, see the
// README's settings table.
import { NoteError } from './note.ts'
import { parseAnyVkey } from './checkpoint.ts'

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

function ms(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 10) throw new Error(`${name} must be an integer of at least 10 (milliseconds), got '${value}'`)
  return n
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

export function loadLedgerConfig(env: NodeJS.ProcessEnv): LedgerConfig {
  return {
    origin: env.CF_LEDGER_LOG_ORIGIN || undefined,
    logKey: env.CF_LEDGER_LOG_KEY || undefined,
    integrateIntervalMs: ms(env.CF_LEDGER_INTEGRATE_INTERVAL_MS, 100, 'CF_LEDGER_INTEGRATE_INTERVAL_MS'),
    checkpointIntervalMs: ms(env.CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS, 1000, 'CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS'),
    witnesses: parseWitnesses(env.CF_LEDGER_WITNESSES),
  }
}

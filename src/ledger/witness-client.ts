// Pushes a new checkpoint to each configured witness (c2sp.org/tlog-witness add-checkpoint) with
// the consistency proof from the size the witness last cosigned, and keeps the cosignatures that
// verify under the witness's key next to the checkpoint.
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { parseAnyVkey } from './checkpoint.ts'
import type { WitnessConfig } from './config.ts'
import { proveConsistency, type StoredCheckpoint } from './log-store.ts'
import { openNote, parseSignatureLine, signatureLine } from './note.ts'

/** The add-checkpoint body: `old N`, the proof lines, a blank line, the checkpoint. */
export function addCheckpointBody(oldSize: number, proof: readonly Buffer[], checkpoint: string): string {
  return `old ${oldSize}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${checkpoint}`
}

/** The witness sizes we know, so the next push sends the right proof at once. */
const knownSizes = new Map<string, number>()

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, text: await res.text() }
}

/** One witness: returns its cosignature line, or undefined (logged) when it refused or failed. */
export async function requestCosignature(db: Db, cp: StoredCheckpoint, w: WitnessConfig, logger: Logger): Promise<string | undefined> {
  const verifier = parseAnyVkey(w.vkey)
  let old = Math.min(knownSizes.get(w.vkey) ?? 0, cp.size)
  for (let attempt = 0; attempt < 2; attempt++) {
    const proof = old === 0 || old === cp.size ? [] : await proveConsistency(db, old, cp.size)
    let res
    try {
      res = await post(w.url, addCheckpointBody(old, proof, cp.note))
    } catch (err) {
      logger.warn({ err, witness: w.url }, 'ledger: witness unreachable')
      return undefined
    }
    if (res.status === 409 && /^\d+\n$/.test(res.text) && attempt === 0) {
      old = Number(res.text.trim())
      knownSizes.set(w.vkey, old)
      if (old > cp.size) break
      continue
    }
    if (res.status !== 200) {
      logger.error({ witness: w.url, status: res.status, body: res.text.slice(0, 200), size: cp.size }, 'ledger: the witness refused the checkpoint')
      return undefined
    }
    const lines = res.text.split('\n').filter(Boolean)
    for (const line of lines) {
      try {
        const sig = parseSignatureLine(line)
        if (sig.name !== verifier.name || sig.id !== verifier.id) continue
        openNote(cp.note + signatureLine(sig), [verifier])
        knownSizes.set(w.vkey, cp.size)
        return signatureLine(sig)
      } catch {
        // not a valid cosignature from this witness
      }
    }
    logger.error({ witness: w.url }, 'ledger: the witness answered without a valid cosignature')
    return undefined
  }
  logger.error({ witness: w.url, size: cp.size, witnessSize: old }, 'ledger: the witness has seen a larger tree than this checkpoint')
  return undefined
}

export async function pushToWitnesses(db: Db, cp: StoredCheckpoint, witnesses: readonly WitnessConfig[], logger: Logger): Promise<string> {
  const lines = (await Promise.all(witnesses.map((w) => requestCosignature(db, cp, w, logger)))).filter((l): l is string => !!l)
  if (!lines.length) return ''
  const cosignatures = lines.join('')
  await sql`update ledger_log_checkpoints set cosignatures = ${cosignatures} where size = ${cp.size}`.execute(db)
  return cosignatures
}

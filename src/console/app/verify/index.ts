import { chainVerifier } from './chain.ts'
import { tlogProofVerifier } from './tlog-proof.ts'
import type { PinnedKey, Verifier } from './verifier.ts'

/** Tried in order; the first that finds evidence for the task decides. Proof formats go first. */
export const verifiers: readonly Verifier[] = [tlogProofVerifier, chainVerifier]

const PINS = 'cf-ledger-console-pinned-keys'

/** Pinned public keys: not secrets, so they stay in localStorage across sessions. */
export function pinnedKeys(): PinnedKey[] {
  try {
    return JSON.parse(localStorage.getItem(PINS) ?? '[]') as PinnedKey[]
  } catch {
    return []
  }
}

export function savePinnedKeys(keys: readonly PinnedKey[]): void {
  localStorage.setItem(PINS, JSON.stringify(keys))
}

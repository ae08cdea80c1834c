// The integrity check the browser runs on a task run (docs/console.md#integrity). A Verifier
// fetches one kind of evidence from the public API and checks it here with WebCrypto, against the
// public keys the user pinned. Each proof format is one implementation in this folder, listed in
// index.ts: the C2SP tlog-proof verifier, then the hash-chain verifier.
import type { Trail } from '../types.ts'

export interface Check {
  readonly label: string
  readonly ok: boolean
  readonly detail: string
}

export interface VerificationResult {
  readonly verifier: string
  readonly ok: boolean
  readonly checks: readonly Check[]
  /** What this evidence cannot show, said plainly next to the result. */
  readonly notChecked: readonly string[]
  /** The evidence as fetched, offered as a download. */
  readonly evidence: { readonly fileName: string; readonly type: string; readonly text: string }
  /** The key the server served and the check trusted because none was pinned: offered for pinning. */
  readonly servedKey?: PinnedKey
}

/** The events the page shows, so a verifier can check they are the ones that were hashed. */
export interface ShownEvent {
  readonly guid: string
  readonly type: string
  readonly actor: { readonly guid: string; readonly type: string; readonly name: string | null }
  readonly target: { readonly guid: string; readonly type: string; readonly name: string }
  readonly data: unknown
}

/**
 * A public key pinned in this browser: an audit-chain checkpoint key (`spki`, SubjectPublicKeyInfo
 * DER base64; id = the first 16 hex digits of its SHA-256) or a ledger-log or witness key (`vkey`,
 * the signed-note verifier key `name+id+key`; id = `name+id`).
 */
export interface PinnedKey {
  readonly keyId: string
  readonly spki?: string
  readonly vkey?: string
  readonly note: string
}

export interface Verifier {
  readonly name: string
  /** null when this server offers no evidence of this kind for the task (yet). */
  verify(trail: Trail, pins: readonly PinnedKey[]): Promise<VerificationResult | null>
}

// The integrity check the browser runs on a task run (docs/console.md#integrity). A Verifier
// fetches one kind of evidence from the public API and checks it here with WebCrypto, against the
// public keys the user pinned. Each proof format is one implementation in this folder, listed in
// index.ts: today the hash-chain verifier; the C2SP tlog-proof verifier slots in next to it.

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
}

/** The events the page shows, so a verifier can check they are the ones that were hashed. */
export interface ShownEvent {
  readonly guid: string
  readonly type: string
  readonly actor: { readonly guid: string; readonly type: string; readonly name: string | null }
  readonly target: { readonly guid: string; readonly type: string; readonly name: string }
  readonly data: unknown
}

export interface PinnedKey {
  readonly keyId: string
  /** SubjectPublicKeyInfo DER, base64. */
  readonly spki: string
  readonly note: string
}

export interface Verifier {
  readonly name: string
  /** null when this server offers no evidence of this kind for the task (404). */
  verify(
    taskGuid: string,
    shown: readonly ShownEvent[],
    pins: readonly PinnedKey[],
  ): Promise<VerificationResult | null>
}

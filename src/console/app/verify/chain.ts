// The hash-chain verifier: recomputes each of the task's audit events' SHA-256 from the exact
// fields the server hashed (src/audit/chain-format.ts, shared with the server), checks the events
// shown are those fields, that each event is chained to the stored event before it, and the newest
// checkpoint's Ed25519 signature under a pinned (or, unpinned, the served) public key.
import {
  chainBody,
  checkpointText,
  canonicalJson,
  type ChainedFieldsText,
} from '../../../audit/chain-format.ts'
import { api, ApiError } from '../session.ts'
import type { Check, PinnedKey, ShownEvent, VerificationResult, Verifier } from './verifier.ts'
import { ed25519Verify, fromBase64, keyIdOf, sha256Hex } from './webcrypto.ts'

export interface ChainEvidence {
  readonly format: string
  readonly events: readonly {
    fields: ChainedFieldsText
    /** Null for events written after the chain ended: the log's proof covers them. */
    prev_hash: string | null
    hash: string | null
    predecessor_hash: string | null
  }[]
  readonly checkpoint: {
    seq: number
    hash: string
    signed_at: string
    key_id: string
    signature: string
  } | null
  readonly public_key: { key_id: string; spki_der_base64: string } | null
  readonly head: { seq: number; hash: string }
}

export function sameAsShown(f: ChainedFieldsText, s: ShownEvent | undefined): string | null {
  if (!s) return 'is not among the events shown'
  const diffs: string[] = []
  if (s.type !== f.type) diffs.push('type')
  if (s.actor.guid !== f.actor || s.actor.type !== f.actor_type || s.actor.name !== f.actor_name)
    diffs.push('actor')
  if (s.target.guid !== f.actee || s.target.type !== f.actee_type || s.target.name !== f.actee_name)
    diffs.push('target')
  if (canonicalJson(s.data ?? {}) !== canonicalJson(f.metadata ?? {})) diffs.push('data')
  return diffs.length ? `shown ${diffs.join(', ')} differ from the hashed fields` : null
}

async function checkEvents(ev: ChainEvidence, shown: readonly ShownEvent[]): Promise<Check[]> {
  const checks: Check[] = []
  for (const e of ev.events) {
    if (e.hash === null || e.prev_hash === null) continue
    const f = e.fields
    const name = `event #${f.seq} ${f.type}`
    const computed = await sha256Hex(`${e.prev_hash}\n${chainBody(f)}`)
    checks.push({
      label: `${name}: SHA-256 recomputed`,
      ok: computed === e.hash,
      detail:
        computed === e.hash
          ? `matches ${e.hash.slice(0, 16)}…`
          : `computed ${computed.slice(0, 16)}…, stored ${e.hash.slice(0, 16)}…: the event was edited`,
    })
    const mismatch = sameAsShown(
      f,
      shown.find((s) => s.guid === f.guid),
    )
    checks.push({
      label: `${name}: shown as hashed`,
      ok: mismatch === null,
      detail: mismatch ?? 'type, actor, target and data are the hashed ones',
    })
    if (f.seq > 1) {
      const linked = e.predecessor_hash !== null && e.predecessor_hash === e.prev_hash
      checks.push({
        label: `${name}: chained to event #${f.seq - 1}`,
        ok: linked,
        detail:
          e.predecessor_hash === null
            ? `event #${f.seq - 1} is missing`
            : linked
              ? 'its prev_hash is the stored hash of the event before'
              : 'prev_hash differs from the event before',
      })
    }
  }
  return checks
}

async function checkCheckpoint(
  ev: ChainEvidence,
  pins: readonly (PinnedKey & { spki: string })[],
): Promise<Check[]> {
  const cp = ev.checkpoint
  const newest = Math.max(0, ...ev.events.filter((e) => e.hash !== null).map((e) => e.fields.seq))
  if (!cp)
    return [
      {
        label: 'checkpoint',
        ok: newest === 0,
        detail: 'the ledger has not signed a checkpoint yet',
      },
    ]
  const checks: Check[] = []
  const pinned = pins.find((p) => p.keyId === cp.key_id)
  const spkiB64 = pinned?.spki ?? ev.public_key?.spki_der_base64
  if (!spkiB64)
    return [
      {
        label: `checkpoint #${cp.seq} signature`,
        ok: false,
        detail: `no public key for key id ${cp.key_id}`,
      },
    ]
  if (pins.length && !pinned) {
    checks.push({
      label: 'signing key',
      ok: false,
      detail: `key ${cp.key_id} is not one of your pinned keys`,
    })
  } else {
    checks.push({
      label: 'signing key',
      ok: true,
      detail: pinned
        ? `key ${cp.key_id} is pinned in this browser`
        : `no key pinned: trusting the key the server serves (${cp.key_id})`,
    })
  }
  const spki = fromBase64(spkiB64)
  const id = await keyIdOf(spki)
  checks.push({
    label: 'key id',
    ok: id === cp.key_id,
    detail:
      id === cp.key_id
        ? `SHA-256 of the key starts ${id}`
        : `the key hashes to ${id}, not ${cp.key_id}`,
  })
  let valid = false
  let why = ''
  try {
    valid = await ed25519Verify(
      spki,
      fromBase64(cp.signature),
      checkpointText(cp.seq, cp.hash, cp.signed_at),
    )
  } catch (err) {
    why = (err as Error).message
  }
  checks.push({
    label: `checkpoint #${cp.seq} Ed25519 signature`,
    ok: valid,
    detail: valid
      ? `signed ${cp.signed_at} over seq ${cp.seq}, hash ${cp.hash.slice(0, 16)}…`
      : why || 'the signature does not verify',
  })
  checks.push({
    label: 'events covered by the checkpoint',
    ok: true,
    detail:
      newest <= cp.seq
        ? `the task's events (up to #${newest}) are before checkpoint #${cp.seq}`
        : `event #${newest} is newer than checkpoint #${cp.seq}: signed at the next checkpoint`,
  })
  return checks
}

export const chainVerifier: Verifier = {
  name: 'hash chain + signed checkpoint',
  async verify(trail, pins): Promise<VerificationResult | null> {
    const taskGuid = trail.task.guid
    const shown = trail.events
    let ev: ChainEvidence
    try {
      ev = await api<ChainEvidence>(`/ledger/v1/tasks/${encodeURIComponent(taskGuid)}/chain`)
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null
      throw err
    }
    // Written after the chain ended: only the task's .tlog-proof speaks for them.
    if (!ev.events.some((e) => e.hash !== null)) return null
    const spkiPins = pins.filter((p): p is PinnedKey & { spki: string } => !!p.spki)
    const checks = [...(await checkEvents(ev, shown)), ...(await checkCheckpoint(ev, spkiPins))]
    const hashed = new Set(ev.events.map((e) => e.fields.guid))
    const unchained = ev.events.filter((e) => e.hash === null).length
    for (const s of shown)
      if (!hashed.has(s.guid))
        checks.push({
          label: `event ${s.guid}`,
          ok: false,
          detail: 'shown but not in the ledger evidence',
        })
    return {
      verifier: this.name,
      ok: checks.every((c) => c.ok),
      checks,
      notChecked: [
        ...(unchained ? [`${unchained} of the task's events were written after the hash chain ended: the task's .tlog-proof covers them once it has ended and a log checkpoint covers it`] : []),
        "that the chain is unbroken between these events and the checkpoint: that needs every event in between (other spaces' too); `cf-ledger verify` checks it on the server, and the task's `.tlog-proof` checks it here once the task has finished and a log checkpoint covers it",
        'the output itself: its SHA-256 is recorded in the completion event, which is checked above',
      ],
      evidence: {
        fileName: `task-${taskGuid}.chain.json`,
        type: 'application/json',
        text: JSON.stringify(ev, null, 2),
      },
      ...(ev.public_key && !pins.some((p) => p.keyId === ev.public_key!.key_id)
        ? {
            servedKey: {
              keyId: ev.public_key.key_id,
              spki: ev.public_key.spki_der_base64,
              note: 'checkpoint key',
            },
          }
        : {}),
    }
  },
}

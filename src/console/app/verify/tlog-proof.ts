// The tlog-proof verifier: fetches the task run's `.tlog-proof` (GET /ledger/v1/tasks/:guid/proof,
// docs/ledger.md) and checks, in the browser, the checkpoint's signature under the pinned log key,
// the pinned witnesses' cosignatures, the inclusion proof from the task-run entry to the signed
// root, that the entry is this task as the page shows it, and that each of the task's audit events,
// recomputed from the stored rows, hashes to the leaf hash the entry commits to.
import { canonicalJson, type ChainedFieldsText } from '../../../audit/chain-format.ts'
import { eventEntryBody, MAX_ENTRY_BYTES } from '../../../ledger/entry-format.ts'
import { api, ApiError, authedFetch } from '../session.ts'
import type { Trail } from '../types.ts'
import { sameAsShown } from './chain.ts'
import {
  hex8,
  leafHash,
  parseCheckpointBody,
  parseNote,
  parseProofFile,
  parseVkey,
  rootFromInclusion,
  sameBytes,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  verifySignature,
  type Vkey,
} from './tlog.ts'
import type { Check, PinnedKey, VerificationResult, Verifier } from './verifier.ts'
import { sha256Hex, toBase64 } from './webcrypto.ts'

interface TaskRunEntry {
  kind: string
  task_guid: string
  sequence_id: number
  name: string
  actor: unknown
  command_fingerprint: string | null
  target: unknown
  state: string
  failure_reason: string | null
  exit_status: number | null
  created_at: string | null
  started_at: string | null
  finished_at: string | null
  output: { sha256: string; bytes: number } | null
  events: { guid: string; type: string; leaf_hash: string }[]
}

const enc = new TextEncoder()

async function pinnedVkeys(pins: readonly PinnedKey[], type: number): Promise<Vkey[]> {
  const keys = await Promise.all(
    pins.map((p) => (p.vkey ? parseVkey(p.vkey).catch(() => null) : null)),
  )
  return keys.filter((k): k is Vkey => k?.type === type)
}

/** The entry's claims next to what the page shows for the task (the trail, read from the rows). */
function entryMatchesTrail(e: TaskRunEntry, t: Trail): Check {
  const pairs: [string, unknown, unknown][] = [
    ['task guid', e.task_guid, t.task.guid],
    ['sequence id', e.sequence_id, t.task.sequence_id],
    ['name', e.name, t.task.name],
    ['actor', e.actor, t.actor],
    ['command fingerprint', e.command_fingerprint, t.command_fingerprint],
    ['app, space and org', e.target, t.target],
    ['state', e.state, t.task.state],
    ['failure reason', e.failure_reason, t.task.failure_reason],
    ['exit status', e.exit_status, t.task.exit_status],
    ['created', e.created_at, t.timing.created_at],
    ['started', e.started_at, t.timing.started_at],
    ['finished', e.finished_at, t.timing.finished_at],
    ['output SHA-256', e.output?.sha256 ?? null, t.output.summary?.sha256 ?? null],
  ]
  const differ = pairs.filter(([, a, b]) => canonicalJson(a) !== canonicalJson(b)).map(([k]) => k)
  return {
    label: 'the page shows the proven task run',
    ok: differ.length === 0,
    detail: differ.length
      ? `shown ${differ.join(', ')} differ from the proven entry: the task's row was edited`
      : 'who, command fingerprint, where, outcome, times and output hash are the proven ones',
  }
}

async function eventLeafHash(f: ChainedFieldsText): Promise<string> {
  const body = eventEntryBody(f)
  let bytes = enc.encode(canonicalJson(body))
  if (bytes.length > MAX_ENTRY_BYTES) {
    const { metadata, ...rest } = body
    const digest = await sha256Hex(canonicalJson(metadata))
    bytes = enc.encode(canonicalJson({ ...rest, metadata_sha256: digest }))
  }
  return toBase64(await leafHash(bytes))
}

async function checkEvents(e: TaskRunEntry, t: Trail): Promise<Check[]> {
  const chain = await api<{ events: { fields: ChainedFieldsText }[] }>(
    `/ledger/v1/tasks/${encodeURIComponent(t.task.guid)}/chain`,
  )
  const checks: Check[] = []
  for (const proven of e.events) {
    const f = chain.events.find((x) => x.fields.guid === proven.guid)?.fields
    const name = f ? `event #${f.seq} ${proven.type}` : `event ${proven.guid} ${proven.type}`
    const computed = f ? await eventLeafHash(f) : null
    checks.push({
      label: `${name}: leaf hash recomputed`,
      ok: computed === proven.leaf_hash,
      detail: !computed
        ? 'the event is no longer stored'
        : computed === proven.leaf_hash
          ? 'the stored event is the one the entry commits to'
          : 'the stored event hashes differently from the proven leaf hash: the event was edited',
    })
    if (f) {
      const mismatch = sameAsShown(
        f,
        t.events.find((s) => s.guid === f.guid),
      )
      checks.push({
        label: `${name}: shown as proven`,
        ok: mismatch === null,
        detail: mismatch ?? 'type, actor, target and data are the proven ones',
      })
    }
  }
  for (const s of t.events)
    if (!e.events.some((p) => p.guid === s.guid))
      checks.push({
        label: `event ${s.type}`,
        ok: false,
        detail: 'shown but not in the proven entry',
      })
  return checks
}

/** The log key: a pinned one (any pinned disables trusting the server's), else the served one. */
async function logKey(
  pins: readonly PinnedKey[],
  origin: string,
): Promise<{ key?: Vkey; check: Check; served?: Vkey }> {
  const pinned = await pinnedVkeys(pins, SIG_ED25519)
  if (pinned.length) {
    const key = pinned.find((k) => k.name === origin)
    return key
      ? {
          key,
          check: {
            label: 'log key',
            ok: true,
            detail: `${key.name}+${hex8(key.id)} is pinned in this browser`,
          },
        }
      : {
          check: {
            label: 'log key',
            ok: false,
            detail: `none of your pinned log keys is for ${origin}`,
          },
        }
  }
  const res = await authedFetch('/ledger/v1/log/key')
  const served = await parseVkey(await res.text())
  return {
    key: served,
    served,
    check: {
      label: 'log key',
      ok: served.name === origin,
      detail: `no log key pinned: trusting the key the server serves (${served.name}+${hex8(served.id)})`,
    },
  }
}

async function checkCheckpoint(note: ReturnType<typeof parseNote>, pins: readonly PinnedKey[]) {
  const cp = parseCheckpointBody(note.text)
  const checks: Check[] = []
  const notChecked: string[] = []
  const log = await logKey(pins, cp.origin)
  checks.push(log.check)
  const mine = log.key && note.sigs.find((s) => s.name === log.key!.name && s.id === log.key!.id)
  const signed = mine ? (await verifySignature(log.key!, note.text, mine.sig)).ok : false
  checks.push({
    label: 'checkpoint signature',
    ok: signed,
    detail: signed
      ? `Ed25519 note signature by ${cp.origin} over tree size ${cp.size}, root ${toBase64(cp.root).slice(0, 12)}…`
      : mine
        ? 'the signature does not verify'
        : 'the checkpoint carries no signature by the log key',
  })
  const witnesses = await pinnedVkeys(pins, SIG_COSIGNATURE_V1)
  for (const w of witnesses) {
    const sig = note.sigs.find((s) => s.name === w.name && s.id === w.id)
    const r = sig ? await verifySignature(w, note.text, sig.sig) : { ok: false }
    checks.push({
      label: `cosigned by witness ${w.name}`,
      ok: r.ok,
      detail: r.ok
        ? `cosignature v1 verifies, timestamp ${r.time!.toISOString()}`
        : sig
          ? 'the cosignature does not verify'
          : 'this pinned witness did not cosign the checkpoint',
    })
  }
  for (const s of note.sigs)
    if (
      !(s.name === log.key?.name && s.id === log.key.id) &&
      !witnesses.some((w) => w.name === s.name && w.id === s.id)
    )
      notChecked.push(
        `the signature by ${s.name}+${hex8(s.id)}: its key is not pinned (pin a witness's vkey on the Keys page)`,
      )
  return { cp, checks, notChecked, served: log.served }
}

export const tlogProofVerifier: Verifier = {
  name: 'C2SP tlog-proof',
  async verify(trail, pins): Promise<VerificationResult | null> {
    const guid = trail.task.guid
    const res = await authedFetch(`/ledger/v1/tasks/${encodeURIComponent(guid)}/proof`)
    // 422: the task still runs or no checkpoint covers it yet; the next verifier speaks for it.
    if (res.status === 404 || res.status === 422) return null
    if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status} for the proof`, null)
    const text = await res.text()
    const evidence = { fileName: `task-${guid}.tlog-proof`, type: 'text/plain', text }
    const notChecked = [
      "the output bytes: the proof commits to the output's SHA-256 (compared with the one the page shows); `sha256sum` a download to compare",
      'that the log only grew since a checkpoint you saw before: that needs a consistency proof from your last checkpoint (`cf-ledger verify --remote`)',
    ]
    let checks: Check[]
    let served: Vkey | undefined
    try {
      const proof = parseProofFile(text)
      const note = parseNote(proof.checkpoint)
      const signed = await checkCheckpoint(note, pins)
      served = signed.served
      notChecked.push(...signed.notChecked)
      checks = signed.checks
      if (!proof.extra) throw new Error('the proof carries no entry')
      const root = await rootFromInclusion(
        proof.index,
        signed.cp.size,
        await leafHash(proof.extra),
        proof.proof,
      )
      const included = sameBytes(root, signed.cp.root)
      checks.push({
        label: 'inclusion proof',
        ok: included,
        detail: included
          ? `the entry is leaf ${proof.index} of ${signed.cp.size}: ${proof.proof.length} hashes lead to the signed root`
          : 'the proof does not lead from the entry to the signed root: the entry or the tiles were changed',
      })
      const entry = JSON.parse(new TextDecoder().decode(proof.extra)) as TaskRunEntry
      checks.push({
        label: 'entry kind',
        ok: entry.kind === 'cf-ledger/task-run@v1',
        detail: `a ${entry.kind} entry`,
      })
      checks.push(entryMatchesTrail(entry, trail), ...(await checkEvents(entry, trail)))
    } catch (err) {
      checks = [{ label: 'proof file', ok: false, detail: (err as Error).message }]
    }
    return {
      verifier: this.name,
      ok: checks.every((c) => c.ok),
      checks,
      notChecked,
      evidence,
      ...(served
        ? {
            servedKey: {
              keyId: `${served.name}+${hex8(served.id)}`,
              vkey: served.text,
              note: 'log key',
            },
          }
        : {}),
    }
  },
}

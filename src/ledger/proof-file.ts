// The offline proof file (c2sp.org/tlog-proof@v1, `.tlog-proof`): optional extra data, the leaf
// index, the inclusion proof lines, a blank line and the checkpoint verbatim.
import { openCheckpoint, type OpenedCheckpoint } from './checkpoint.ts'
import { HASH_SIZE, verifyInclusion, type Hash } from './merkle.ts'
import { NoteError, strictBase64, type Verifier } from './note.ts'

export const PROOF_HEADER = 'c2sp.org/tlog-proof@v1'

export interface TlogProof {
  readonly extra?: Buffer
  readonly index: number
  readonly proof: Hash[]
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string
}

export function formatProof(p: TlogProof): string {
  const lines = [PROOF_HEADER]
  if (p.extra) lines.push(`extra ${p.extra.toString('base64')}`)
  lines.push(`index ${p.index}`, ...p.proof.map((h) => h.toString('base64')), '')
  return `${lines.join('\n')}\n${p.checkpoint}`
}

export function parseProof(input: string | Buffer): TlogProof {
  const s = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input)
  const blank = s.indexOf('\n\n')
  if (blank < 0) throw new NoteError('a proof needs a blank line before its checkpoint')
  const head = s.slice(0, blank).split('\n')
  const checkpoint = s.slice(blank + 2)
  if (head.shift() !== PROOF_HEADER) throw new NoteError(`a proof starts with ${PROOF_HEADER}`)
  let extra: Buffer | undefined
  if (head[0]?.startsWith('extra ')) {
    extra = strictBase64(head.shift()!.slice(6))
    if (!extra) throw new NoteError('bad extra line')
  }
  const idx = /^index (0|[1-9]\d*)$/.exec(head.shift() ?? '')
  if (!idx || !Number.isSafeInteger(Number(idx[1]))) throw new NoteError('bad index line')
  const proof = head.map((l) => {
    const h = strictBase64(l)
    if (!h || h.length !== HASH_SIZE) throw new NoteError('bad inclusion proof line')
    return h
  })
  return { ...(extra ? { extra } : {}), index: Number(idx[1]), proof, checkpoint }
}

export interface ProofPolicy {
  readonly origin: string
  readonly logKeys: readonly Verifier[]
  readonly witnesses?: readonly Verifier[]
  /** How many of `witnesses` must have cosigned (default: all given). */
  readonly quorum?: number
}

/** Checks a proof for a leaf hash against a trust policy; returns the opened checkpoint. */
export function verifyProof(p: TlogProof, leaf: Hash, policy: ProofPolicy): OpenedCheckpoint {
  const cp = openCheckpoint(p.checkpoint, policy.origin, policy.logKeys, policy.witnesses ?? [])
  const need = policy.quorum ?? policy.witnesses?.length ?? 0
  if (cp.cosigners.length < need) throw new NoteError(`${cp.cosigners.length} of the ${need} required witness cosignatures`)
  verifyInclusion(p.index, cp.size, leaf, p.proof, cp.root)
  return cp
}

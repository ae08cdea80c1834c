// The C2SP formats the tlog-proof verifier reads, parsed and checked in the browser with WebCrypto:
// proof files (c2sp.org/tlog-proof@v1), signed notes and verifier keys (c2sp.org/signed-note),
// checkpoints (c2sp.org/tlog-checkpoint), cosignatures (c2sp.org/tlog-cosignature) and RFC 9162
// inclusion proofs. The server's versions (src/ledger/) use Node's Buffer and crypto, so the
// browser has its own; test/console-units.test.ts checks the two agree.
import { ed25519VerifyRaw, fromBase64, sha256 } from './webcrypto.ts'

const enc = new TextEncoder()
export const SIG_ED25519 = 0x01
export const SIG_COSIGNATURE_V1 = 0x04

export interface ProofFile {
  readonly extra: Uint8Array<ArrayBuffer> | null
  readonly index: number
  readonly proof: readonly Uint8Array<ArrayBuffer>[]
  readonly checkpoint: string
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function b64(s: string, what: string): Uint8Array<ArrayBuffer> {
  if (!BASE64.test(s)) throw new Error(`bad base64 in ${what}`)
  return fromBase64(s)
}

export function parseProofFile(text: string): ProofFile {
  const blank = text.indexOf('\n\n')
  if (blank < 0) throw new Error('a proof needs a blank line before its checkpoint')
  const head = text.slice(0, blank).split('\n')
  if (head.shift() !== 'c2sp.org/tlog-proof@v1')
    throw new Error('not a c2sp.org/tlog-proof@v1 file')
  const extra = head[0]?.startsWith('extra ') ? b64(head.shift()!.slice(6), 'the extra line') : null
  const idx = /^index (0|[1-9]\d*)$/.exec(head.shift() ?? '')
  if (!idx) throw new Error('bad index line')
  const proof = head.map((l) => {
    const h = b64(l, 'the inclusion proof')
    if (h.length !== 32) throw new Error('an inclusion proof hash is 32 bytes')
    return h
  })
  return { extra, index: Number(idx[1]), proof, checkpoint: text.slice(blank + 2) }
}

export interface NoteSignature {
  readonly name: string
  readonly id: number
  /** The signature bytes after the 4-byte key id. */
  readonly sig: Uint8Array<ArrayBuffer>
}

export function parseNote(text: string): { text: string; sigs: NoteSignature[] } {
  const split = text.lastIndexOf('\n\n')
  if (split < 0 || !text.endsWith('\n'))
    throw new Error('a note is text, a blank line and signature lines')
  const sigs = text
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/u.exec(line)
      const bytes = m ? b64(m[2]!, 'a signature line') : null
      if (!m || !bytes || bytes.length < 5) throw new Error('malformed signature line')
      const id = new DataView(bytes.buffer).getUint32(0)
      return { name: m[1]!, id, sig: bytes.slice(4) }
    })
  return { text: text.slice(0, split + 1), sigs }
}

export interface CheckpointBody {
  readonly origin: string
  readonly size: number
  readonly root: Uint8Array<ArrayBuffer>
}

export function parseCheckpointBody(text: string): CheckpointBody {
  const [origin, size, root] = text.split('\n')
  if (!origin || !size || !/^(0|[1-9]\d*)$/.test(size) || !root)
    throw new Error('a checkpoint is origin, size and root hash lines')
  const hash = b64(root, 'the root hash')
  if (hash.length !== 32) throw new Error('the root hash is 32 bytes')
  return { origin, size: Number(size), root: hash }
}

export interface Vkey {
  readonly text: string
  readonly name: string
  readonly id: number
  readonly type: number
  readonly key: Uint8Array<ArrayBuffer>
}

export const hex8 = (id: number) => id.toString(16).padStart(8, '0')

/** SHA-256(name || 0x0A || type || key)[:4], big-endian. */
async function keyIdOf(name: string, type: number, key: Uint8Array): Promise<number> {
  const h = await sha256(enc.encode(name), new Uint8Array([0x0a, type]), key)
  return new DataView(h.buffer).getUint32(0)
}

/** A vkey `name+id+base64(type||key)`; only Ed25519 note (0x01) and cosignature (0x04) keys. */
export async function parseVkey(text: string): Promise<Vkey> {
  const s = text.trim()
  const a = s.indexOf('+')
  const b = s.indexOf('+', a + 1)
  if (a <= 0 || b < 0) throw new Error('a verifier key is name+id+key')
  const [name, idHex, material] = [s.slice(0, a), s.slice(a + 1, b), b64(s.slice(b + 1), 'the key')]
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error('the key id must be 8 hex digits')
  if (material.length !== 33 || (material[0] !== SIG_ED25519 && material[0] !== SIG_COSIGNATURE_V1))
    throw new Error('only Ed25519 note and cosignature keys are known')
  const type = material[0]!
  const key = material.slice(1)
  const id = await keyIdOf(name, type, key)
  if (hex8(id) !== idHex) throw new Error('the key id does not match the key')
  return { text: s, name, id, type, key }
}

/** A note signature (0x01) or a timestamped cosignature (0x04) over the note text. */
export async function verifySignature(
  key: Vkey,
  noteText: string,
  sig: Uint8Array<ArrayBuffer>,
): Promise<{ ok: boolean; time?: Date }> {
  const text = enc.encode(noteText)
  if (key.type === SIG_ED25519)
    return { ok: sig.length === 64 && (await ed25519VerifyRaw(key.key, sig, text)) }
  if (sig.length !== 72) return { ok: false }
  const ts = new DataView(sig.buffer).getBigUint64(0)
  const msg = new Uint8Array([...enc.encode(`cosignature/v1\ntime ${ts}\n`), ...text])
  return {
    ok: ts < 1n << 63n && (await ed25519VerifyRaw(key.key, sig.slice(8), msg)),
    time: new Date(Number(ts) * 1000),
  }
}

export const leafHash = (entry: Uint8Array) => sha256(new Uint8Array([0]), entry)
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(new Uint8Array([1]), l, r)

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to. */
export async function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array<ArrayBuffer>,
  proof: readonly Uint8Array[],
): Promise<Uint8Array<ArrayBuffer>> {
  if (!(index >= 0 && index < size))
    throw new Error(`leaf index ${index} is not below the tree size ${size}`)
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) throw new Error('the inclusion proof is too long')
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = await nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  if (sn !== 0) throw new Error('the inclusion proof is too short')
  return r
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i])

// C2SP signed notes (c2sp.org/signed-note): Ed25519 note signatures (type 0x01) and the key
// formats — verifier keys `name+id+base64(type||key)` and, for compatibility with Go's
// golang.org/x/mod/sumdb/note, signer keys `PRIVATE+KEY+name+id+base64(0x01||seed)`.
import crypto, { type KeyObject } from 'node:crypto'

export const SIG_ED25519 = 0x01
export const SIG_COSIGNATURE_V1 = 0x04

export class NoteError extends Error {}

/** SHA-256(name || 0x0A || type || public key)[:4], big-endian. */
export function keyId(name: string, type: number, publicKey: Buffer): number {
  return crypto.createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, type])).update(publicKey).digest().readUInt32BE(0)
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0')

export function validKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f]/.test(name)
}

export function ed25519Public(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new NoteError('an Ed25519 public key is 32 bytes')
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
}

export const rawPublicKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url')

export interface Verifier {
  readonly name: string
  readonly id: number
  readonly type: number
  readonly publicKey: Buffer
  /** Checks the signature bytes (after the 4-byte key id) over the note text. */
  verify(text: Buffer, sig: Buffer): boolean
}

export interface Signer {
  readonly name: string
  readonly id: number
  sign(text: Buffer): Buffer
  readonly verifier: Verifier
}

/** The vkey text form of a verifier. */
export function vkeyOf(v: Pick<Verifier, 'name' | 'id' | 'type' | 'publicKey'>): string {
  return `${v.name}+${hex8(v.id)}+${Buffer.concat([Buffer.from([v.type]), v.publicKey]).toString('base64')}`
}

/** Only strict, canonical base64 (what every encoder writes): no second spelling of the same bytes. */
export function strictBase64(s: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined
  const b = Buffer.from(s, 'base64')
  return b.toString('base64') === s ? b : undefined
}

export function ed25519NoteVerifier(name: string, publicKey: Buffer): Verifier {
  const key = ed25519Public(publicKey)
  return {
    name,
    id: keyId(name, SIG_ED25519, publicKey),
    type: SIG_ED25519,
    publicKey,
    verify: (text, sig) => sig.length === 64 && crypto.verify(null, text, key, sig),
  }
}

/** name+id+key, where the base64 key may itself hold '+'. */
function splitKey(s: string): [string, string, string] {
  const a = s.indexOf('+')
  const b = a < 0 ? -1 : s.indexOf('+', a + 1)
  if (a < 0 || b < 0) throw new NoteError('a key is name+id+key')
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)]
}

/** Parses a vkey; only Ed25519 note keys (0x01) and Ed25519 cosignature keys (0x04) are known. */
export function parseVkey(vkey: string, cosigVerifier?: (name: string, publicKey: Buffer) => Verifier): Verifier {
  const [name, idHex, b64] = splitKey(vkey.trim())
  if (!validKeyName(name)) throw new NoteError('invalid key name')
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('the key id must be 8 lowercase hex digits')
  const material = strictBase64(b64)
  if (!material || material.length !== 33) throw new NoteError('the key must be a type byte and a 32-byte Ed25519 key')
  const type = material[0]!
  const pub = material.subarray(1)
  let v: Verifier
  if (type === SIG_ED25519) v = ed25519NoteVerifier(name, pub)
  else if (type === SIG_COSIGNATURE_V1 && cosigVerifier) v = cosigVerifier(name, pub)
  else throw new NoteError(`unknown signature type 0x${type.toString(16).padStart(2, '0')}`)
  if (hex8(v.id) !== idHex) throw new NoteError('the key id does not match the key')
  return v
}

export function signerFromSeed(name: string, seed: Buffer): Signer {
  if (!validKeyName(name)) throw new NoteError('invalid key name')
  if (seed.length !== 32) throw new NoteError('an Ed25519 seed is 32 bytes')
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const verifier = ed25519NoteVerifier(name, rawPublicKey(crypto.createPublicKey(privateKey)))
  return { name, id: verifier.id, sign: (text) => crypto.sign(null, text, privateKey), verifier }
}

/** PKCS#8 DER header of an Ed25519 private key (RFC 8410); the 32-byte seed follows. */
export const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export function seedOf(privateKey: KeyObject): Buffer {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' })
  if (privateKey.asymmetricKeyType !== 'ed25519' || der.length !== 48) throw new NoteError('not an Ed25519 private key')
  return der.subarray(16)
}

/** `PRIVATE+KEY+name+id+base64(0x01||seed)`. */
export function skeyOf(name: string, seed: Buffer): string {
  const s = signerFromSeed(name, seed)
  return `PRIVATE+KEY+${name}+${hex8(s.id)}+${Buffer.concat([Buffer.from([SIG_ED25519]), seed]).toString('base64')}`
}

export function parseSkey(skey: string): Signer {
  const s0 = skey.trim()
  if (!s0.startsWith('PRIVATE+KEY+')) throw new NoteError('a signer key is PRIVATE+KEY+name+id+key')
  const [name, idHex, b64] = splitKey(s0.slice('PRIVATE+KEY+'.length))
  const material = strictBase64(b64)
  if (!material || material.length !== 33 || material[0] !== SIG_ED25519) throw new NoteError('the key must be 0x01 and a 32-byte Ed25519 seed')
  const s = signerFromSeed(name, material.subarray(1))
  if (hex8(s.id) !== idHex) throw new NoteError('the key id does not match the key')
  return s
}

export interface NoteSignature {
  readonly name: string
  readonly id: number
  /** base64(id || signature), as on the line. */
  readonly base64: string
}

export interface Note {
  /** The text, ending in a newline, without the blank line. */
  readonly text: string
  readonly sigs: NoteSignature[]
}

export const MAX_NOTE_BYTES = 1 << 20
export const MAX_SIGNATURES = 64

export function signatureLine(s: NoteSignature): string {
  return `\u2014 ${s.name} ${s.base64}\n`
}

export function formatNote(n: Note): string {
  return `${n.text}\n${n.sigs.map(signatureLine).join('')}`
}

/** Parses one `— name base64` line (without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  const m = /^\u2014 (\S+) (\S+)$/u.exec(line)
  if (!m || !validKeyName(m[1]!)) throw new NoteError('malformed signature line')
  const bytes = strictBase64(m[2]!)
  if (!bytes || bytes.length < 5) throw new NoteError('malformed signature')
  return { name: m[1]!, id: bytes.readUInt32BE(0), base64: m[2]! }
}

/** Splits a signed note into text and signature lines; nothing is verified yet. */
export function parseNote(input: string | Buffer): Note {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input
  if (bytes.length > MAX_NOTE_BYTES) throw new NoteError('note too large')
  const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) throw new NoteError('a note may not hold control characters other than newline')
  const split = s.lastIndexOf('\n\n')
  if (split < 0) throw new NoteError('a note needs a blank line before its signatures')
  const text = s.slice(0, split + 1)
  const rest = s.slice(split + 2)
  if (!rest.endsWith('\n')) throw new NoteError('the signature block must end in a newline')
  const sigs = rest.slice(0, -1).split('\n').map(parseSignatureLine)
  if (sigs.length === 0) throw new NoteError('a note needs a signature')
  if (sigs.length > MAX_SIGNATURES) throw new NoteError('too many signatures')
  return { text, sigs }
}

/**
 * Opens a note with the trusted verifiers: signatures from unknown (name, id) pairs are ignored,
 * a known one that fails rejects the note, and at least one known signature must verify.
 */
export function openNote(input: string | Buffer, verifiers: readonly Verifier[]): { note: Note; verified: Verifier[] } {
  const note = parseNote(input)
  const text = Buffer.from(note.text, 'utf8')
  const verified: Verifier[] = []
  for (const sig of note.sigs) {
    const v = verifiers.find((k) => k.name === sig.name && k.id === sig.id)
    if (!v) continue
    if (!v.verify(text, Buffer.from(sig.base64, 'base64').subarray(4))) throw new NoteError(`invalid signature for key ${sig.name}+${hex8(sig.id)}`)
    if (!verified.includes(v)) verified.push(v)
  }
  if (!verified.length) throw new NoteError('no signature from a trusted key')
  return { note, verified }
}

export function signNote(text: string, signers: readonly Signer[]): string {
  if (!text.endsWith('\n')) throw new NoteError('note text must end in a newline')
  const t = Buffer.from(text, 'utf8')
  return formatNote({
    text,
    sigs: signers.map((s) => {
      const id = Buffer.alloc(4)
      id.writeUInt32BE(s.id)
      return { name: s.name, id: s.id, base64: Buffer.concat([id, s.sign(t)]).toString('base64') }
    }),
  })
}

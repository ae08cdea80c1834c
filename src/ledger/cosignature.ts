// Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature, type 0x04): the signature covers
// `cosignature/v1\ntime <T>\n` followed by the checkpoint's note text, and is carried as an
// 8-byte big-endian timestamp followed by the 64-byte Ed25519 signature.
import crypto from 'node:crypto'
import { ed25519Public, keyId, NoteError, PKCS8_ED25519_PREFIX, rawPublicKey, SIG_COSIGNATURE_V1, validKeyName, type Signer, type Verifier } from './note.ts'

export function cosignedMessage(timestamp: bigint, checkpointText: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timestamp}\n`), checkpointText])
}

/** A cosignature verifier; `verify` takes the signature bytes after the key id (timestamp || sig). */
export function cosignatureVerifier(name: string, publicKey: Buffer): Verifier & { timestampOf(sig: Buffer): bigint } {
  const key = ed25519Public(publicKey)
  return {
    name,
    id: keyId(name, SIG_COSIGNATURE_V1, publicKey),
    type: SIG_COSIGNATURE_V1,
    publicKey,
    verify(text, sig) {
      if (sig.length !== 72) return false
      const ts = sig.readBigUInt64BE(0)
      if (ts >= 1n << 63n) return false
      return crypto.verify(null, cosignedMessage(ts, text), key, sig.subarray(8))
    },
    timestampOf: (sig) => sig.readBigUInt64BE(0),
  }
}

export interface Cosigner extends Signer {
  /** Signs with an explicit time (seconds); `sign` uses now. */
  signAt(text: Buffer, timestamp: bigint): Buffer
}

export function cosignerFromSeed(name: string, seed: Buffer): Cosigner {
  if (!validKeyName(name)) throw new NoteError('invalid key name')
  if (seed.length !== 32) throw new NoteError('an Ed25519 seed is 32 bytes')
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const verifier = cosignatureVerifier(name, rawPublicKey(crypto.createPublicKey(privateKey)))
  const signAt = (text: Buffer, timestamp: bigint) => {
    const ts = Buffer.alloc(8)
    ts.writeBigUInt64BE(timestamp)
    return Buffer.concat([ts, crypto.sign(null, cosignedMessage(timestamp, text), privateKey)])
  }
  return { name, id: verifier.id, verifier, signAt, sign: (text) => signAt(text, BigInt(Math.floor(Date.now() / 1000))) }
}

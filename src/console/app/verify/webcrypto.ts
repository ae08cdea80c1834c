// WebCrypto helpers. crypto.subtle exists only in a secure context (https, or http on loopback).

const enc = new TextEncoder()

function subtle(): SubtleCrypto {
  if (!globalThis.crypto?.subtle)
    throw new Error('WebCrypto is unavailable: open the console over https (or on localhost)')
  return globalThis.crypto.subtle
}

export function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('')
}

export function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64.replace(/\s+/g, ''))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(await subtle().digest('SHA-256', typeof data === 'string' ? enc.encode(data) : data))
}

/** The ledger's key id: the first 16 hex digits of SHA-256 over the SPKI DER. */
export async function keyIdOf(spki: Uint8Array<ArrayBuffer>): Promise<string> {
  return (await sha256Hex(spki)).slice(0, 16)
}

export async function ed25519Verify(
  spki: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  message: string,
): Promise<boolean> {
  let key: CryptoKey
  try {
    key = await subtle().importKey('spki', spki, { name: 'Ed25519' }, false, ['verify'])
  } catch (err) {
    throw new Error(`this browser cannot verify Ed25519 signatures (${(err as Error).message})`)
  }
  return subtle().verify({ name: 'Ed25519' }, key, signature, enc.encode(message))
}

/** A PEM or base64 public key as SPKI DER base64. */
export function spkiFromText(text: string): string {
  const body = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '')
  fromBase64(body)
  return body
}

export function toBase64(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    all.set(p, at)
    at += p.length
  }
  return new Uint8Array(await subtle().digest('SHA-256', all))
}

/** Ed25519 with a raw 32-byte public key (the signed-note key form). */
export async function ed25519VerifyRaw(
  publicKey: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  let key: CryptoKey
  try {
    key = await subtle().importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify'])
  } catch (err) {
    throw new Error(`this browser cannot verify Ed25519 signatures (${(err as Error).message})`)
  }
  return subtle().verify({ name: 'Ed25519' }, key, signature, message)
}

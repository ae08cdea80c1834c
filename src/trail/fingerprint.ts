import crypto from 'node:crypto'
import type { Db } from '../store/store.ts'

export type Fingerprint = (command: string) => string

const KEY_NAME = 'command-fingerprint'

/**
 * The key for command fingerprints: `CF_LEDGER_FINGERPRINT_KEY` (hex or base64, ≥ 32 bytes, e.g.
 * from Vault) or, when unset, a random key generated once and kept in the store.
 */
export async function loadFingerprintKey(db: Db, configured: string | undefined): Promise<Buffer> {
  if (configured) {
    const key = /^[0-9a-fA-F]+$/.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'base64')
    if (key.length < 32) throw new Error('CF_LEDGER_FINGERPRINT_KEY must hold at least 32 bytes (64 hex characters)')
    return key
  }
  await db
    .insertInto('ledger_keys')
    .values({ name: KEY_NAME, value: crypto.randomBytes(32).toString('hex'), created_at: new Date() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute()
  const row = await db.selectFrom('ledger_keys').select('value').where('name', '=', KEY_NAME).executeTakeFirstOrThrow()
  return Buffer.from(row.value, 'hex')
}

/** `hmac-sha256:<hex>`: lets an auditor test whether a given command ran without reading commands. */
export function fingerprinter(key: Buffer): Fingerprint {
  return (command) => `hmac-sha256:${crypto.createHmac('sha256', key).update(command, 'utf8').digest('hex')}`
}

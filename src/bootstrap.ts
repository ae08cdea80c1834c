import crypto from 'node:crypto'
import { ADMIN_SCOPES, type Uaa } from './auth/uaa.ts'

/** On an empty store, creates `admin` and returns its password, to be printed once. */
export async function ensureAdmin(uaa: Uaa, configuredPassword: string | undefined): Promise<string | undefined> {
  if (await uaa.findUser('admin')) return undefined
  const password = configuredPassword ?? crypto.randomBytes(18).toString('base64url')
  try {
    await uaa.createUser({ username: 'admin', password, scopes: ADMIN_SCOPES })
  } catch (err) {
    // Another instance sharing the database created it first.
    if ((err as { code?: string }).code === '23505') return undefined
    throw err
  }
  return password
}

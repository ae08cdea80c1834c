// The droplet cache: a staged droplet's files, extracted once per droplet under the cache root,
// which the task runner hands to the executor (which runs each task in its own copy).
import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { Db } from '../store/store.ts'
import { readBlobChunks } from './blobs.ts'
import { DEFAULT_BITS_LIMITS } from './limits.ts'
import { extractZip, type ZipLimits } from './zip.ts'

const inflight = new Map<string, Promise<string>>()

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.lstat(p)).isDirectory()
  } catch {
    return false
  }
}

/**
 * Returns `<cacheRoot>/<dropletGuid>/`, holding the droplet's files. The first call extracts the
 * droplet's blob into a private temporary directory and renames it into place, so the directory
 * appears complete or not at all; concurrent calls (in this process or another sharing the cache
 * root) are safe and all return the same path. The blob is checked against its sha256 first.
 */
export function materializeDroplet(db: Db, dropletGuid: string, cacheRoot: string, limits: ZipLimits = DEFAULT_BITS_LIMITS): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(dropletGuid)) return Promise.reject(new Error(`invalid droplet guid '${dropletGuid}'`))
  const root = path.resolve(cacheRoot)
  const key = path.join(root, dropletGuid)
  let pending = inflight.get(key)
  if (!pending) {
    pending = extractOnce(db, dropletGuid, root, limits).finally(() => inflight.delete(key))
    inflight.set(key, pending)
  }
  return pending
}

async function extractOnce(db: Db, dropletGuid: string, root: string, limits: ZipLimits): Promise<string> {
  const final = path.join(root, dropletGuid)
  if (await isDirectory(final)) return final
  const droplet = await db
    .selectFrom('droplets')
    .innerJoin('blobs', 'blobs.guid', 'droplets.blob_guid')
    .select(['droplets.state', 'blobs.guid as blob_guid', 'blobs.sha256'])
    .where('droplets.guid', '=', dropletGuid)
    .executeTakeFirst()
  if (!droplet) throw new Error(`droplet ${dropletGuid} has no bits`)
  if (droplet.state !== 'STAGED') throw new Error(`droplet ${dropletGuid} is ${droplet.state}, not STAGED`)

  await fsp.mkdir(root, { recursive: true })
  const tmp = await fsp.mkdtemp(path.join(root, `.tmp-${dropletGuid}-`))
  const zipPath = `${tmp}.zip`
  try {
    const hash = crypto.createHash('sha256')
    const chunks = readBlobChunks(db, droplet.blob_guid)
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const c of chunks) {
            hash.update(c)
            yield c
          }
        })(),
      ),
      fs.createWriteStream(zipPath, { flags: 'wx', mode: 0o600 }),
    )
    const digest = hash.digest('hex')
    if (digest !== droplet.sha256) throw new Error(`droplet ${dropletGuid} bits do not match their sha256 (${digest} != ${droplet.sha256})`)
    await extractZip(zipPath, tmp, limits)
    await fsp.chmod(tmp, 0o755)
    try {
      await fsp.rename(tmp, final)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Another extractor won the race; its directory is as good as ours.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDirectory(final))) {
        await fsp.rm(tmp, { recursive: true, force: true })
        return final
      }
      throw err
    }
    return final
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true })
    throw err
  } finally {
    await fsp.rm(zipPath, { force: true })
  }
}

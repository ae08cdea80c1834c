// Disk usage of a task's working copy, and the copy itself.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'

/**
 * Bytes allocated under `dir` (st_blocks × 512, as `du` counts; directories included, symlinks not
 * followed, hard links counted once). Stops early and returns a value > `stopAbove` once the sum
 * passes it. Entries that vanish during the walk are skipped.
 */
export async function diskUsage(dir: string, stopAbove = Infinity): Promise<number> {
  let total = 0
  const seen = new Set<string>()
  const stack = [dir]
  while (stack.length) {
    const d = stack.pop()!
    let names: string[]
    try {
      names = await fsp.readdir(d)
    } catch {
      continue
    }
    const stats = await Promise.all(names.map((n) => fsp.lstat(path.join(d, n), { bigint: false }).catch(() => null)))
    for (let i = 0; i < names.length; i++) {
      const st = stats[i]
      if (!st) continue
      if (st.nlink > 1 && !st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`
        if (seen.has(key)) continue
        seen.add(key)
      }
      total += st.blocks * 512
      if (st.isDirectory()) stack.push(path.join(d, names[i]!))
    }
    if (total > stopAbove) return total
  }
  return total
}

export interface Owner {
  readonly uid: number
  readonly gid: number
}

/**
 * Copies the directory `src` to `dst` (which must not exist): directories, regular files (mode
 * kept, set-id bits dropped) and symlinks (copied as links, never followed); other file types are
 * skipped. With `owner`, everything copied belongs to that user. `dst` itself is made writable by
 * its owner, as CF's /home/vcap/app is.
 */
export async function copyTree(src: string, dst: string, owner: Owner | null): Promise<void> {
  const st = await fsp.stat(src)
  if (!st.isDirectory()) throw new Error(`${src} is not a directory`)
  await copyDir(src, dst, (st.mode & 0o777) | 0o700, owner)
}

async function copyDir(src: string, dst: string, mode: number, owner: Owner | null): Promise<void> {
  await fsp.mkdir(dst, { mode: 0o700 })
  const entries = await fsp.readdir(src, { withFileTypes: true })
  await Promise.all(
    entries.map(async (e) => {
      const s = path.join(src, e.name)
      const d = path.join(dst, e.name)
      if (e.isDirectory()) {
        await copyDir(s, d, (await fsp.lstat(s)).mode & 0o777, owner)
      } else if (e.isFile()) {
        await fsp.copyFile(s, d, fs.constants.COPYFILE_EXCL)
        if (owner) await fsp.chown(d, owner.uid, owner.gid)
        const m = (await fsp.stat(d)).mode
        if (m & 0o6000) await fsp.chmod(d, m & 0o777)
      } else if (e.isSymbolicLink()) {
        await fsp.symlink(await fsp.readlink(s), d)
        if (owner) await fsp.lchown(d, owner.uid, owner.gid)
      }
    }),
  )
  if (owner) await fsp.chown(dst, owner.uid, owner.gid)
  await fsp.chmod(dst, mode)
}

/** Gives every entry under `dir` (and `dir`) to uid:gid without following symlinks. */
export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await fsp.lchown(dir, uid, gid)
  const entries = await fsp.readdir(dir, { withFileTypes: true })
  await Promise.all(
    entries.map((e) => {
      const p = path.join(dir, e.name)
      return e.isDirectory() ? chownTree(p, uid, gid) : fsp.lchown(p, uid, gid)
    }),
  )
}

// Disk usage of a task's working copy, and the copy itself.
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

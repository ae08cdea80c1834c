// One process per embedded store: PGlite has no lock of its own, and two processes opening the
// same directory corrupt it for good. A lock file holds the owner's pid; one left behind by a
// process that is gone (a SIGKILL, a crash) is taken over.
import fs from 'node:fs'
import path from 'node:path'

export class EmbeddedStoreInUseError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `<dir>/../pg.lock` for this process; the returned function gives it back. */
export function lockEmbeddedStore(dir: string): () => void {
  const file = path.join(path.dirname(dir), 'pg.lock')
  const mine = `${process.pid}\n`
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: 'wx', mode: 0o644 })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      const owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new EmbeddedStoreInUseError(`the embedded store in ${dir} is open in another process (pid ${owner}); stop it first or give this one another --data-dir`)
      }
      fs.rmSync(file, { force: true })
    }
  }
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8') === mine) fs.rmSync(file, { force: true })
    } catch {
      // already gone
    }
  }
}

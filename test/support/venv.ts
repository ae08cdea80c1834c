// The Python venvs of the tests that drive Python tools (the CF client, schemathesis): built on
// demand from pinned requirements by ensure-venv.sh beside this file, once per process.
import { spawnSync } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..', '..')
const ready = new Set<string>()

/** Returns the venv's directory, creating it first if it does not hold exactly `requirements`. */
export function ensureVenv(venv: string, requirements: string): string {
  const dir = path.join(root, venv)
  if (ready.has(dir)) return dir
  const r = spawnSync('bash', [path.join(import.meta.dirname, 'ensure-venv.sh'), venv, path.join(root, requirements)], { encoding: 'utf8', timeout: 600_000 })
  if (r.status !== 0) throw new Error(`could not create ${venv} (python3 with venv and PyPI are needed):\n${r.stdout}\n${r.stderr}`)
  ready.add(dir)
  return dir
}

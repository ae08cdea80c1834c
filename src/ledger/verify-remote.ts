// `cf-ledger verify --remote URL`: what an auditor with only a token and the trusted public keys
// can check. The checkpoint's signature and witness cosignatures; that it is consistent with the
// last checkpoint this auditor verified (kept in a local state file, so each run checks only
// what is new); and optionally every new entry the caller may read, hashed against the tiles,
// with the tiles hashed up to the checkpoint's root.
import fs from 'node:fs'
import path from 'node:path'
import { openCheckpoint } from './checkpoint.ts'
import { leafHash, treeRoot, verifyConsistency } from './merkle.ts'
import type { Verifier } from './note.ts'
import { decodeBundle, hashAt, tilePath, tileReader, tileWidthAt, TILE_WIDTH } from './tiles.ts'

/** Tile and entry-bundle requests in flight at once. */
const PARALLEL = 8

export interface RemoteOptions {
  readonly url: string
  readonly token: string
  readonly logKeys: readonly Verifier[]
  readonly witnesses?: readonly Verifier[]
  readonly quorum?: number
  readonly stateFile: string
  /** Also fetch the new entry bundles (global readers only) and check them against the tiles. */
  readonly entries?: boolean
}

export interface RemoteState {
  readonly origin: string
  readonly size: number
  /** base64 */
  readonly root: string
  readonly verified_at: string
}

export interface RemoteReport {
  readonly ok: boolean
  readonly problem?: string
  readonly size: number
  readonly previous: number | null
  readonly cosigners: string[]
  readonly entriesChecked: number
}

class Remote {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async get(p: string): Promise<Buffer> {
    const res = await fetch(`${this.url}/ledger/v1/${p}`, { headers: { authorization: `bearer ${this.token}` } })
    const body = Buffer.from(await res.arrayBuffer())
    if (!res.ok) throw new Error(`GET /ledger/v1/${p}: ${res.status} ${body.toString('utf8').slice(0, 200)}`)
    return body
  }

  tile(level: number, index: number, size: number): Promise<Buffer> {
    return this.get(`log/${tilePath(level, index, tileWidthAt(level, index, size))}`)
  }
}

export function readState(file: string): RemoteState | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RemoteState) : undefined
}

function writeState(file: string, s: RemoteState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2), { mode: 0o600 })
  fs.renameSync(tmp, file)
}

export async function verifyRemote(o: RemoteOptions): Promise<RemoteReport> {
  const remote = new Remote(o.url.replace(/\/+$/, ''), o.token)
  const prev = readState(o.stateFile)
  const origin = prev?.origin ?? o.logKeys[0]!.name
  const fail = (problem: string, size = 0, cosigners: string[] = []): RemoteReport => ({ ok: false, problem, size, previous: prev?.size ?? null, cosigners, entriesChecked: 0 })
  let cp
  try {
    cp = openCheckpoint(await remote.get('log/checkpoint'), origin, o.logKeys, o.witnesses ?? [])
  } catch (err) {
    return fail(`the checkpoint does not verify: ${(err as Error).message}`)
  }
  const cosigners = cp.cosigners.map((c) => c.name)
  const need = o.quorum ?? o.witnesses?.length ?? 0
  if (cosigners.length < need) return fail(`the checkpoint has ${cosigners.length} of the ${need} required witness cosignatures`, cp.size, cosigners)
  if (prev) {
    if (cp.size < prev.size) return fail(`the log went back from size ${prev.size} (verified ${prev.verified_at}) to ${cp.size}`, cp.size, cosigners)
    try {
      const proof =
        cp.size === prev.size
          ? []
          : ((JSON.parse((await remote.get(`log/consistency?first=${prev.size}&second=${cp.size}`)).toString()) as { proof: string[] }).proof.map((h) => Buffer.from(h, 'base64')))
      verifyConsistency(prev.size, cp.size, proof, Buffer.from(prev.root, 'base64'), cp.root)
    } catch (err) {
      return fail(`checkpoint ${cp.size} is not consistent with checkpoint ${prev.size} verified ${prev.verified_at}: the history was rewritten (${(err as Error).message})`, cp.size, cosigners)
    }
  }
  let entriesChecked = 0
  if (o.entries && cp.size > 0) {
    const from = prev?.size ?? 0
    const tiles = new Map<string, Buffer>()
    const fetchTiles = async (ids: readonly { level: number; index: number }[]) => {
      await Promise.all(
        ids.filter((t) => !tiles.has(`${t.level}/${t.index}`)).map(async (t) => tiles.set(`${t.level}/${t.index}`, await remote.tile(t.level, t.index, cp.size))),
      )
      return tiles
    }
    try {
      // The tiles must hash to the signed root; then each new entry must hash to its tile's leaf.
      if (!(await treeRoot(cp.size, tileReader(fetchTiles))).equals(cp.root)) return fail(`the tiles do not hash to the root of checkpoint ${cp.size}`, cp.size, cosigners)
      const bundles = []
      for (let n = Math.floor(from / TILE_WIDTH); n * TILE_WIDTH < cp.size; n++) bundles.push(n)
      for (let at = 0; at < bundles.length; at += PARALLEL) {
        const batch = await Promise.all(
          bundles.slice(at, at + PARALLEL).map(async (n) => {
            const width = tileWidthAt(0, n, cp.size)
            const [held, bundle] = await Promise.all([fetchTiles([{ level: 0, index: n }]), remote.get(`log/${tilePath('entries', n, width)}`)])
            return { n, width, tile: held.get(`0/${n}`)!, bundle: decodeBundle(bundle) }
          }),
        )
        for (const { n, width, tile, bundle } of batch) {
          if (bundle.length !== width) return fail(`entry bundle ${n} holds ${bundle.length} entries, not ${width}`, cp.size, cosigners)
          for (let i = Math.max(0, from - n * TILE_WIDTH); i < width; i++) {
            if (!leafHash(bundle[i]!).equals(hashAt(tile, i))) return fail(`entry ${n * TILE_WIDTH + i} does not hash to its leaf: the entry was changed after it was logged`, cp.size, cosigners)
            entriesChecked++
          }
        }
      }
    } catch (err) {
      return fail(`cannot check the entries: ${(err as Error).message}`, cp.size, cosigners)
    }
  }
  writeState(o.stateFile, { origin, size: cp.size, root: cp.root.toString('base64'), verified_at: new Date().toISOString() })
  return { ok: true, size: cp.size, previous: prev?.size ?? null, cosigners, entriesChecked }
}

export function formatRemoteReport(r: RemoteReport): string {
  if (!r.ok) return `cf-ledger verify --remote: FAILED: ${r.problem}`
  const since = r.previous === null ? 'first verification' : r.previous === r.size ? `unchanged since size ${r.previous}` : `consistent with size ${r.previous}`
  const cos = r.cosigners.length ? `, cosigned by ${r.cosigners.join(', ')}` : ''
  const entries = r.entriesChecked ? `; ${r.entriesChecked} new entries match their leaves` : ''
  return `cf-ledger verify --remote: OK: checkpoint of size ${r.size} signed by the log key${cos}; ${since}${entries}`
}

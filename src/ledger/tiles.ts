// C2SP tlog-tiles: tiles of height 8 (256 hashes, 8 KiB when full), their paths, partial tiles,
// entry bundles, and the arithmetic that maps tree nodes to tiles (c2sp.org/tlog-tiles).
import { HASH_SIZE, nodeHash, packedRoot, type Hash, type NodeId, type NodeReader } from './merkle.ts'

export const TILE_HEIGHT = 8
export const TILE_WIDTH = 256

/** A tile coordinate: level L (tree level L*8) and index N; width 1..256 (256 = full). */
export interface TileId {
  readonly level: number
  readonly index: number
  readonly width: number
}

/** `x001/x234/067` for 1234067. */
export function encodeIndex(n: number): string {
  const parts: string[] = []
  do {
    parts.unshift(String(n % 1000).padStart(3, '0'))
    n = Math.floor(n / 1000)
  } while (n > 0)
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/')
}

/** The path under the log prefix: `tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` when level is 'entries'. */
export function tilePath(level: number | 'entries', index: number, width: number): string {
  return `tile/${level}/${encodeIndex(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`
}

/** Parses `<L or entries>/<N>[.p/<W>]`; undefined for anything the spec does not allow. */
export function parseTilePath(rest: string): { level: number | 'entries'; index: number; width: number } | undefined {
  const m = /^(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(rest)
  if (!m) return undefined
  const level = m[1] === 'entries' ? 'entries' : Number(m[1])
  if (level !== 'entries' && level > 63) return undefined
  const groups = [...(m[2] ?? '').split('/').filter(Boolean).map((g) => g.slice(1)), m[3]!]
  // No leading zero groups: 000/… would be a second name for the same tile.
  if (groups.length > 1 && groups[0] === '000') return undefined
  const index = groups.reduce((acc, g) => acc * 1000 + Number(g), 0)
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4])
  if (m[4] !== undefined && width > 255) return undefined
  if (!Number.isSafeInteger(index)) return undefined
  return { level, index, width }
}

/** The width of tile (level, index) in a tree of `size` leaves, 0 when it does not exist yet. */
export function tileWidthAt(level: number, index: number, size: number): number {
  const hashesAtLevel = Math.floor(size / TILE_WIDTH ** level)
  return Math.max(0, Math.min(TILE_WIDTH, hashesAtLevel - index * TILE_WIDTH))
}

/** The tiles a tree of `size` leaves consists of at its right edge (partial ones included). */
export function edgeTiles(size: number): TileId[] {
  const out: TileId[] = []
  for (let level = 0; TILE_WIDTH ** level <= size; level++) {
    const n = Math.floor(size / TILE_WIDTH ** level)
    const index = Math.floor(n / TILE_WIDTH)
    const width = n % TILE_WIDTH
    if (width) out.push({ level, index, width })
  }
  return out
}

/** Which tile and which hashes in it a complete subtree's hash is built from. */
export function tileFor(node: NodeId): { level: number; index: number; first: number; count: number } {
  const level = Math.floor(node.level / TILE_HEIGHT)
  const sub = node.level % TILE_HEIGHT
  const count = 2 ** sub
  const position = node.index * count // index among this tile level's hashes
  return { level, index: Math.floor(position / TILE_WIDTH), first: position % TILE_WIDTH, count }
}

export const hashAt = (tile: Buffer, i: number): Hash => tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)

/**
 * Each tile's inner levels, hashed once per tile buffer: level h holds the nodes of 2^h hashes,
 * packed in one buffer per level. Packed, a cached tile is nine buffers rather than ~500 small
 * Buffer objects, which kept major GC pauses (tens of ms) out of proof requests.
 */
const innerLevels = new WeakMap<Buffer, Buffer[]>()

function subtreeOf(tile: Buffer, first: number, count: number): Hash {
  let levels = innerLevels.get(tile)
  if (!levels) innerLevels.set(tile, (levels = [tile]))
  const h = Math.log2(count)
  while (levels.length <= h) {
    const below = levels.at(-1)!
    const pairs = Math.floor(below.length / HASH_SIZE / 2)
    const next = Buffer.allocUnsafe(pairs * HASH_SIZE)
    for (let i = 0; i < pairs; i++) nodeHash(hashAt(below, 2 * i), hashAt(below, 2 * i + 1)).copy(next, i * HASH_SIZE)
    levels.push(next)
  }
  return hashAt(levels[h]!, first / count)
}

/** A tile a reader needs, and how many of its hashes (a partial tile at least that wide will do). */
export interface TileNeed {
  readonly level: number
  readonly index: number
  readonly need: number
}

/** A NodeReader over stored tiles: `fetch` returns each requested tile's bytes (any width covering the need). */
export function tileReader(fetch: (tiles: readonly TileNeed[]) => Promise<Map<string, Buffer>>): NodeReader {
  return async (ids) => {
    const wants = ids.map(tileFor)
    const needs = new Map<string, TileNeed>()
    for (const w of wants) {
      const key = `${w.level}/${w.index}`
      const need = Math.max(needs.get(key)?.need ?? 0, w.first + w.count)
      needs.set(key, { level: w.level, index: w.index, need })
    }
    const tiles = await fetch([...needs.values()])
    return wants.map((w, i) => {
      const tile = tiles.get(`${w.level}/${w.index}`)
      if (!tile || tile.length < (w.first + w.count) * HASH_SIZE) throw new Error(`tile ${w.level}/${w.index} does not hold node ${ids[i]!.level}/${ids[i]!.index}`)
      return subtreeOf(tile, w.first, w.count)
    })
  }
}

/** MTH of a full tile's 256 hashes: the hash it contributes to the tile level above. */
export const tileRoot: (tile: Buffer) => Hash = packedRoot

/**
 * Appends leaf hashes to a tree of `size` leaves whose right-edge (partial) tiles are `edge`,
 * keyed `level/index`. Returns every tile that changed, with its new bytes and width.
 */
export function appendLeaves(size: number, edge: ReadonlyMap<string, Buffer>, leaves: readonly Hash[]): (TileId & { bytes: Buffer })[] {
  const changed = new Map<string, TileId & { bytes: Buffer }>()
  let incoming: Hash[] = [...leaves]
  for (let level = 0; incoming.length; level++) {
    // Hashes at this tile level before the append: one per full tile of the level below.
    let start = Math.floor(size / TILE_WIDTH ** level)
    const completed: Hash[] = []
    let at = 0
    while (at < incoming.length) {
      const index = Math.floor(start / TILE_WIDTH)
      const offset = start % TILE_WIDTH
      const key = `${level}/${index}`
      const before = changed.get(key)?.bytes ?? edge.get(key)?.subarray(0, offset * HASH_SIZE) ?? Buffer.alloc(0)
      if (before.length !== offset * HASH_SIZE) throw new Error(`tile ${key} holds ${before.length / HASH_SIZE} hashes, expected ${offset}`)
      const take = incoming.slice(at, at + TILE_WIDTH - offset)
      const bytes = Buffer.concat([before, ...take])
      const width = bytes.length / HASH_SIZE
      changed.set(key, { level, index, width, bytes })
      if (width === TILE_WIDTH) completed.push(tileRoot(bytes))
      at += take.length
      start += take.length
    }
    incoming = completed
  }
  return [...changed.values()]
}

/** An entry bundle: big-endian uint16 length-prefixed entries. */
export function encodeBundle(entries: readonly Buffer[]): Buffer {
  return Buffer.concat(
    entries.flatMap((e) => {
      if (e.length > 0xffff) throw new RangeError(`an entry of ${e.length} bytes does not fit an entry bundle`)
      const len = Buffer.alloc(2)
      len.writeUInt16BE(e.length)
      return [len, e]
    }),
  )
}

export function decodeBundle(bytes: Buffer): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new Error('entry bundle: truncated length')
    const len = bytes.readUInt16BE(at)
    if (at + 2 + len > bytes.length) throw new Error('entry bundle: truncated entry')
    out.push(bytes.subarray(at + 2, at + 2 + len))
    at += 2 + len
  }
  return out
}

// Safe reading of package zips. Every entry is checked before anything is trusted: names must be
// relative paths inside the package, symlinks must resolve inside it, and sizes are bounded by
// the entry count, the total unzipped size (counted on the bytes actually inflated, not on the
// headers) and the compression ratio. The same walk validates an upload and extracts a droplet.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { Transform, Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import zlib from 'node:zlib'
import yauzl from 'yauzl'
import { ApiError } from '../errors/api-error.ts'
import {
  corruptZip,
  invalidFileName,
  pathOutsideRoot,
  ratioTooHigh,
  symlinkOutsideRoot,
  tooManyEntries,
  unzippedTooLarge,
} from './errors.ts'

export interface ZipLimits {
  readonly maxUnzippedBytes: number
  readonly maxEntries: number
  readonly maxCompressionRatio: number
}

/** Files up to this size may compress as well as they like; bigger ones obey the ratio limit. */
export const RATIO_EXEMPT_BYTES = 1024 * 1024
const MAX_SYMLINK_TARGET_BYTES = 4096
/** As Linux's MAXSYMLINKS: deeper chains (and loops) are refused. */
const MAX_SYMLINK_DEPTH = 40

export type EntryKind = 'file' | 'directory' | 'symlink'

export interface ZipEntryInfo {
  /** Normalised relative path: no leading `/`, no `.`/`..` or empty segments, no trailing `/`. */
  readonly path: string
  readonly kind: EntryKind
  /** Permission bits to create the entry with (see `modeOf`). */
  readonly mode: number
  readonly size: number
  readonly target?: string
}

export interface ZipScan {
  readonly entries: readonly ZipEntryInfo[]
  readonly unzippedBytes: number
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000

/**
 * Checks an entry name and returns it normalised. Backslashes and NUL are refused outright (on
 * Windows-made zips `\` is a separator, so `..\x` would be traversal); `..`, absolute paths and
 * drive letters are outside the package.
 */
export function safeEntryPath(name: string): string {
  if (name.includes('\0') || name.includes('\\')) throw invalidFileName(name)
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw pathOutsideRoot()
  const parts = name.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw pathOutsideRoot()
  return parts.join('/')
}

/** Executable bits are kept; files are always owner-writable and world-readable, never setuid or group/world-writable. */
function modeOf(kind: EntryKind, unixMode: number): number {
  if (kind === 'directory') return 0o755
  return (unixMode & 0o111) | 0o644
}

/**
 * Resolves `target` as the kernel would from directory `dir` inside the package, following the
 * package's own symlinks. Returns null when the walk leaves the package, loops or nests too deep.
 */
function resolveInside(links: ReadonlyMap<string, string>, dir: readonly string[], target: string, depth = 0): string[] | null {
  if (depth > MAX_SYMLINK_DEPTH) return null
  if (target.startsWith('/') || target.includes('\\') || target.includes('\0') || /^[A-Za-z]:/.test(target)) return null
  let cur = [...dir]
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (cur.length === 0) return null
      cur.pop()
      continue
    }
    cur.push(part)
    const next = links.get(cur.join('/'))
    if (next !== undefined) {
      cur.pop()
      const resolved = resolveInside(links, cur, next, depth + 1)
      if (!resolved) return null
      cur = resolved
    }
  }
  return cur
}

/** Package-wide rules that need every entry: nothing below a symlink or a file, and every symlink resolving inside. */
function checkTree(entries: readonly ZipEntryInfo[]): void {
  const byPath = new Map(entries.map((e) => [e.path, e]))
  const links = new Map(entries.filter((e) => e.kind === 'symlink').map((e) => [e.path, e.target!]))
  for (const e of entries) {
    const parts = e.path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const parent = byPath.get(parts.slice(0, i).join('/'))
      if (parent?.kind === 'symlink') throw symlinkOutsideRoot()
      if (parent?.kind === 'file') throw corruptZip(`'${e.path}' is inside the file '${parent.path}'`)
    }
  }
  for (const [linkPath, target] of links) {
    if (!resolveInside(links, linkPath.split('/').slice(0, -1), target)) throw symlinkOutsideRoot()
  }
}

/** Counts inflated bytes against the package budget and computes the CRC-32 as data flows. */
class Meter extends Transform {
  crc = 0
  bytes = 0
  constructor(private readonly budget: { remaining: number; readonly max: number }) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length
    this.budget.remaining -= chunk.length
    if (this.budget.remaining < 0) return cb(unzippedTooLarge(this.budget.max))
    this.crc = zlib.crc32(chunk, this.crc)
    cb(null, chunk)
  }
}

const discard = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb()
    },
  })

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of stream) {
    n += (c as Buffer).length
    if (n > max) throw corruptZip('symlink target too long')
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

/** yauzl and zlib describe damage with plain Errors; those become AppBitsUploadInvalid. */
function asZipError(err: unknown): unknown {
  if (err instanceof ApiError) return err
  const code = (err as { code?: string } | null)?.code
  if (code === 'ENOSPC' || code === 'EMFILE' || code === 'EACCES') return err
  return corruptZip((err as Error)?.message ?? String(err))
}

export type FileSink = (entry: ZipEntryInfo, data: Readable) => Promise<void>

/**
 * Walks every entry of an open zip, inflating each file through the meter into `sink` (or into
 * nothing, to validate). Throws a CF error for anything unsafe or damaged.
 */
async function walk(zip: yauzl.ZipFile, limits: ZipLimits, sink?: FileSink): Promise<ZipScan> {
  if (zip.entryCount > limits.maxEntries) throw tooManyEntries(limits.maxEntries)
  const entries: ZipEntryInfo[] = []
  const seen = new Map<string, EntryKind>()
  const budget = { remaining: limits.maxUnzippedBytes, max: limits.maxUnzippedBytes }
  let declared = 0
  let count = 0
  for await (const entry of zip.eachEntry()) {
    if (++count > limits.maxEntries) throw tooManyEntries(limits.maxEntries)
    const rawName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true)
    const entryPath = safeEntryPath(rawName)
    const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff
    const kind: EntryKind =
      rawName.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR ? 'directory' : (unixMode & S_IFMT) === S_IFLNK ? 'symlink' : 'file'
    if (entryPath === '') {
      if (kind === 'directory') continue
      throw invalidFileName(rawName)
    }
    const earlier = seen.get(entryPath)
    if (earlier) {
      if (kind === 'directory' && earlier === 'directory') continue
      throw corruptZip(`duplicate entry '${entryPath}'`)
    }
    seen.set(entryPath, kind)
    if (entry.isEncrypted()) throw corruptZip(`'${entryPath}' is encrypted`)
    declared += entry.uncompressedSize
    if (declared > limits.maxUnzippedBytes) throw unzippedTooLarge(limits.maxUnzippedBytes)
    if (entry.uncompressedSize > RATIO_EXEMPT_BYTES && entry.uncompressedSize > Math.max(entry.compressedSize, 1) * limits.maxCompressionRatio) {
      throw ratioTooHigh(entryPath, limits.maxCompressionRatio)
    }
    if (kind === 'directory') {
      entries.push({ path: entryPath, kind, mode: modeOf(kind, unixMode), size: 0 })
      continue
    }
    const stream = await zip.openReadStreamPromise(entry)
    const meter = new Meter(budget)
    stream.on('error', (err) => meter.destroy(err))
    stream.pipe(meter)
    try {
      if (kind === 'symlink') {
        const target = (await readAll(meter, MAX_SYMLINK_TARGET_BYTES)).toString('utf8')
        entries.push({ path: entryPath, kind, mode: 0o777, size: meter.bytes, target })
      } else {
        const info: ZipEntryInfo = { path: entryPath, kind, mode: modeOf(kind, unixMode), size: entry.uncompressedSize }
        await (sink ? sink(info, meter) : pipeline(meter, discard()))
        // A sink must consume everything; a short read would skip the CRC check.
        if (!meter.readableEnded) await pipeline(meter, discard())
        entries.push(info)
      }
    } catch (err) {
      stream.destroy()
      throw err
    }
    if ((meter.crc >>> 0) !== (entry.crc32 >>> 0)) throw corruptZip(`CRC mismatch for '${entryPath}'`)
  }
  checkTree(entries)
  return { entries, unzippedBytes: limits.maxUnzippedBytes - budget.remaining }
}

async function withZip<T>(open: () => Promise<yauzl.ZipFile>, fn: (zip: yauzl.ZipFile) => Promise<T>): Promise<T> {
  let zip: yauzl.ZipFile
  try {
    zip = await open()
  } catch (err) {
    throw asZipError(err)
  }
  try {
    return await fn(zip)
  } catch (err) {
    throw asZipError(err)
  } finally {
    zip.close()
  }
}

const OPTIONS = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true } as const

/**
 * Validates the whole package zip at `file`, inflating every entry; returns what it holds. yauzl
 * reads the central directory and then each entry from disk, so memory stays bounded by its buffers.
 */
export function scanZipFile(file: string, limits: ZipLimits): Promise<ZipScan> {
  return withZip(
    () => yauzl.openPromise(file, OPTIONS),
    (zip) => walk(zip, limits),
  )
}

/** Reads one top-level file (e.g. `Procfile`) of a zip already validated, up to `maxBytes`. */
export function readTopLevelFile(
  source: Buffer | { readonly reader: yauzl.RandomAccessReader; readonly size: number },
  name: string,
  maxBytes: number,
): Promise<string | undefined> {
  return withZip(
    () => (Buffer.isBuffer(source) ? yauzl.fromBufferPromise(source, OPTIONS) : yauzl.fromRandomAccessReaderPromise(source.reader, source.size, OPTIONS)),
    async (zip) => {
      for await (const entry of zip.eachEntry()) {
        const rawName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true)
        if (rawName !== name && rawName !== `./${name}`) continue
        if (entry.uncompressedSize > maxBytes || entry.isEncrypted()) return undefined
        const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff
        if ((unixMode & S_IFMT) === S_IFLNK || (unixMode & S_IFMT) === S_IFDIR) return undefined
        const stream = await zip.openReadStreamPromise(entry)
        const chunks: Buffer[] = []
        for await (const c of stream) chunks.push(c as Buffer)
        return Buffer.concat(chunks).toString('utf8')
      }
      return undefined
    },
  )
}

/**
 * Extracts the zip at `zipPath` into the empty directory `dest`, re-checking every rule. Files
 * and directories are written first (with O_EXCL, through real directories only); symlinks are
 * created last, after the whole tree has been checked, so no write ever passes through one.
 */
export function extractZip(zipPath: string, dest: string, limits: ZipLimits): Promise<ZipScan> {
  return withZip(
    () => yauzl.openPromise(zipPath, OPTIONS),
    async (zip) => {
      const madeDirs = new Set<string>([''])
      const ensureDir = async (rel: string) => {
        if (madeDirs.has(rel)) return
        await fsp.mkdir(path.join(dest, rel), { recursive: true, mode: 0o755 })
        madeDirs.add(rel)
      }
      const scan = await walk(zip, limits, async (entry, data) => {
        await ensureDir(path.posix.dirname(entry.path) === '.' ? '' : path.posix.dirname(entry.path))
        const file = path.join(dest, entry.path)
        await pipeline(data, fs.createWriteStream(file, { flags: 'wx', mode: entry.mode }))
        await fsp.chmod(file, entry.mode)
      })
      for (const e of scan.entries) {
        if (e.kind === 'directory') await ensureDir(e.path)
      }
      for (const e of scan.entries) {
        if (e.kind !== 'symlink') continue
        const parent = path.posix.dirname(e.path)
        await ensureDir(parent === '.' ? '' : parent)
        await fsp.symlink(e.target!, path.join(dest, e.path))
      }
      return scan
    },
  )
}

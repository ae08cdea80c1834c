// Reads a multipart/form-data body (the package upload) into fields and files spooled to disk.
// The HTTP adapter calls it only after the caller is authenticated, so anonymous clients cannot
// make the server store anything. A file streams from the socket into a temporary file under the
// spool directory with bounded buffers (busboy's parser, then a write stream with backpressure),
// so no upload is ever held in memory. A file over the limit is drained, not kept, and marked
// truncated. The adapter calls `dispose()` when the request is done, whatever happened.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { FastifyRequest } from 'fastify'
import { apiError } from '../errors/api-error.ts'

export interface UploadedFile {
  readonly filename: string
  /** The spooled bytes; absent when `truncated`. */
  readonly path: string
  readonly size: number
  /** True when the file was larger than the limit. */
  readonly truncated: boolean
}

export interface MultipartBody {
  readonly multipart: true
  readonly fields: Readonly<Record<string, string>>
  readonly files: Readonly<Record<string, UploadedFile>>
  /** Removes the spooled files. */
  dispose(): Promise<void>
}

export interface UploadSpool {
  /** Directory for the per-request spool directories (created on demand). */
  readonly dir: string
  /** Largest file kept, bytes. */
  readonly maxFileBytes: number
}

export function isMultipartBody(body: unknown): body is MultipartBody {
  return typeof body === 'object' && body !== null && (body as { multipart?: unknown }).multipart === true
}

/** Busboy limits besides the file size: a form with a couple of fields and one file. */
const FORM_LIMITS = { fields: 20, fieldSize: 16 * 1024 * 1024, files: 4, parts: 32 }
/** Spool directories older than this are a crashed process's leftovers. */
const STALE_SPOOL_MS = 6 * 3600_000

export async function readMultipartBody(req: FastifyRequest, spool: UploadSpool): Promise<MultipartBody> {
  const fields: Record<string, string> = {}
  const files: Record<string, UploadedFile> = {}
  await fsp.mkdir(spool.dir, { recursive: true, mode: 0o700 })
  const dir = await fsp.mkdtemp(path.join(spool.dir, 'upload-'))
  const dispose = () => fsp.rm(dir, { recursive: true, force: true })
  try {
    let n = 0
    for await (const part of req.parts({ limits: { ...FORM_LIMITS, fileSize: spool.maxFileBytes } })) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value)
        continue
      }
      const file = path.join(dir, `part-${n++}`)
      const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 })
      await pipeline(part.file, out)
      const truncated = part.file.truncated || out.bytesWritten > spool.maxFileBytes
      if (truncated) await fsp.rm(file, { force: true })
      files[part.fieldname] = { filename: part.filename, path: truncated ? '' : file, size: truncated ? 0 : out.bytesWritten, truncated }
    }
  } catch (err) {
    await dispose()
    const code = (err as { code?: string }).code ?? ''
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EMFILE') throw err
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      throw apiError('MessageParseError', 'too many parts in the multipart body')
    }
    throw apiError('MessageParseError', 'invalid multipart body')
  }
  return { multipart: true, fields, files, dispose }
}

/** Removes spool directories a crashed process left behind (old enough that no upload still writes them). */
export async function sweepUploadSpool(dir: string, now = Date.now()): Promise<void> {
  const names = await fsp.readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    if (!name.startsWith('upload-')) continue
    const st = await fsp.stat(path.join(dir, name)).catch(() => undefined)
    if (st && now - st.mtimeMs > STALE_SPOOL_MS) await fsp.rm(path.join(dir, name), { recursive: true, force: true })
  }
}

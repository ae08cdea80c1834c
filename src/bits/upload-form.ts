// Reads a multipart/form-data body (the package upload) into fields and in-memory files. The
// HTTP adapter calls it only after the caller is authenticated, so anonymous clients cannot make
// the server buffer anything. A file over the limit is drained, not kept, and marked truncated.
import type { FastifyRequest } from 'fastify'
import { apiError } from '../errors/api-error.ts'

export interface UploadedFile {
  readonly filename: string
  /** The file's bytes; empty when `truncated`. */
  readonly data: Buffer
  /** True when the file was larger than the limit. */
  readonly truncated: boolean
}

export interface MultipartBody {
  readonly multipart: true
  readonly fields: Readonly<Record<string, string>>
  readonly files: Readonly<Record<string, UploadedFile>>
}

export function isMultipartBody(body: unknown): body is MultipartBody {
  return typeof body === 'object' && body !== null && (body as { multipart?: unknown }).multipart === true
}

/** Busboy limits besides the file size: a form with a couple of fields and one file. */
const FORM_LIMITS = { fields: 20, fieldSize: 16 * 1024 * 1024, files: 4, parts: 32 }

export async function readMultipartBody(req: FastifyRequest, maxFileBytes: number): Promise<MultipartBody> {
  const fields: Record<string, string> = {}
  const files: Record<string, UploadedFile> = {}
  try {
    for await (const part of req.parts({ limits: { ...FORM_LIMITS, fileSize: maxFileBytes } })) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value)
        continue
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of part.file) {
        size += (chunk as Buffer).length
        if (size <= maxFileBytes) chunks.push(chunk as Buffer)
      }
      const truncated = part.file.truncated || size > maxFileBytes
      files[part.fieldname] = { filename: part.filename, data: truncated ? Buffer.alloc(0) : Buffer.concat(chunks), truncated }
    }
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      throw apiError('MessageParseError', 'too many parts in the multipart body')
    }
    throw apiError('MessageParseError', 'invalid multipart body')
  }
  return { multipart: true, fields, files }
}

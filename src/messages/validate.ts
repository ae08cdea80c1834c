import { z, type ZodType } from 'zod'
import { ApiError, apiError } from '../errors/api-error.ts'
import { baseKey, bracketKeyError, isExtensionParam } from './list-query.ts'
import { inputProblem } from './text.ts'

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `Unknown field(s): ${i.keys.map((k) => `'${k}'`).join(', ')}`
      // A refused record key (metadata labels) carries its own message.
      if (i.code === 'invalid_key' && i.issues.length) return i.issues.map((x) => x.message).join(', ')
      // Messages that already name their field (CC's full messages) are kept as they are.
      const where = i.path.map(String).join('.')
      const named = i.message.toLowerCase().startsWith(where.replace(/_/g, ' ').toLowerCase())
      return where && !named && !/^[A-Z]/.test(i.message) ? `${where} ${i.message}` : i.message
    })
    .join(', ')
}

/** The text rule (text.ts) for a body: CF's 422. */
export function checkBodyText(body: unknown, opts = { numbers: true }): void {
  const problem = inputProblem(body, opts)
  if (problem) throw apiError('UnprocessableEntity', problem)
}

/** The text rule for query parameters: CF's 400. */
export function checkQueryText(query: unknown): void {
  const problem = inputProblem(query, { numbers: false })
  if (problem) throw apiError('BadQueryParameter', problem)
}

/** Path parameters name a resource: one that breaks the text rule names none (404). */
export function checkPathText(params: Readonly<Record<string, string>>): void {
  if (inputProblem(params, { numbers: false })) throw apiError('NotFound')
}

/** Validates a JSON body; CF answers bad bodies with 422 UnprocessableEntity. */
export function parseBody<T>(schema: ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw apiError('MessageParseError', 'invalid request body')
  }
  checkBodyText(body, { numbers: false })
  const r = schema.safeParse(body)
  if (!r.success) throw apiError('UnprocessableEntity', describeIssues(r.error.issues))
  // What the schema let through (an unchecked number inside a free-form object) must still fit a column.
  checkBodyText(r.data)
  return r.data
}

/** Validates query parameters; CF answers bad ones with 400 BadQueryParameter. */
export function parseQuery<T>(schema: ZodType<T>, query: unknown): T {
  checkQueryText(query)
  const r = schema.safeParse(query ?? {})
  if (!r.success) {
    const unknown = r.error.issues.find((i) => i.code === 'unrecognized_keys')
    if (unknown && unknown.code === 'unrecognized_keys') {
      const shapeKeys = schema instanceof z.ZodObject ? Object.keys(schema.shape) : []
      const operatorErrors = unknown.keys.map((k) => bracketKeyError(shapeKeys, k))
      const names = [...new Set(unknown.keys.filter((_, i) => !operatorErrors[i]).map(baseKey))]
      if (names.length) {
        const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {}
        const valid = shapeKeys.filter((k) => !k.includes('[') && !isExtensionParam(shape[k])).map((k) => `'${k}'`)
        throw apiError(
          'BadQueryParameter',
          `Unknown query parameter(s): ${names.map((k) => `'${k}'`).join(', ')}. Valid parameters are: ${valid.join(', ')}`,
        )
      }
      throw apiError('BadQueryParameter', operatorErrors.join(', '))
    }
    throw apiError('BadQueryParameter', describeIssues(r.error.issues))
  }
  return r.data
}

export { ApiError }

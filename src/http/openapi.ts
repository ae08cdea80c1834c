import { z } from 'zod'
import { BIGINT_LIMIT, TEXT_PATTERN } from '../messages/text.ts'
import type { Route } from './route.ts'

type Json = Record<string, unknown>

/**
 * Writes the rules every input obeys (src/messages/text.ts, checked for whole bodies, queries and
 * paths before any schema) into a schema: strings and record keys without NUL or unpaired
 * surrogates, numbers within bigint. A node with its own pattern or enum keeps it (those are
 * narrower already).
 */
function withInputRules(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withInputRules)
  if (!node || typeof node !== 'object') return node
  const out: Json = {}
  for (const [k, v] of Object.entries(node as Json)) out[k] = k === 'enum' || k === 'const' || k === 'default' ? v : withInputRules(v)
  const fixed = 'enum' in out || 'const' in out
  const types = Array.isArray(out.type) ? (out.type as unknown[]) : [out.type]
  if (types.includes('string') && !fixed && out.pattern === undefined) out.pattern = TEXT_PATTERN
  if ((types.includes('number') || types.includes('integer')) && !fixed) {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.exclusiveMaximum = BIGINT_LIMIT
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.exclusiveMinimum = -BIGINT_LIMIT
  }
  if (out.type === 'object' && out.additionalProperties !== undefined && out.additionalProperties !== false && out.propertyNames === undefined) {
    out.propertyNames = { type: 'string', pattern: TEXT_PATTERN }
  }
  return out
}

/** zod emits JSON Schema 2020-12, which is OpenAPI 3.1's own dialect; the document names it once. */
function toJsonSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json
  void _dialect
  return withInputRules(rest) as Json
}

/** Path parameters: non-empty text (their schema is otherwise just `string`). */
const PATH_TEXT = { type: 'string', minLength: 1, pattern: TEXT_PATTERN }

/** An OpenAPI 3 document generated from the same route table and schemas that serve requests. */
export function openApiDocument(routes: readonly Route[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}')
    const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: PATH_TEXT as { type: string } }))
    if (r.query) {
      const query = toJsonSchema(r.query)
      const required = (query.required ?? []) as string[]
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, unknown>)) {
        params.push({ name, in: 'query', required: required.includes(name), schema: schema as { type: string } })
      }
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: params,
      responses: { default: { description: 'See the Cloud Foundry v3 API documentation for the response shape' } },
    }
    if (r.auth !== 'none') op.security = [{ bearer: [] }]
    const body = r.documentedBody ?? r.body
    if (body) op.requestBody = { required: true, content: { [r.bodyType ?? 'application/json']: { schema: toJsonSchema(body) } } }
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: op }
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: { title: 'cf-ledger', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  }
}

export function openApiRoute(getRoutes: () => readonly Route[], version: string): Route {
  return {
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'Root',
    auth: 'none',
    async handler() {
      return { status: 200, body: openApiDocument(getRoutes(), version) }
    },
  }
}

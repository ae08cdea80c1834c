import { z } from 'zod'
import { TEXT_PATTERN } from '../messages/text.ts'
import type { Route } from './route.ts'

type Json = Record<string, unknown>

/**
 * Writes the rules every input obeys (src/messages/text.ts, checked for whole bodies, queries and
 * paths before any schema) into a schema: strings and record keys without NUL or unpaired
 * surrogates, numbers within 2^53, values typed `unknown` as JSON under those rules. A node with its own pattern or enum keeps it (those are
 * narrower already).
 */
function withInputRules(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withInputRules)
  if (!node || typeof node !== 'object') return node
  if (isAnything(node)) return jsonValue(JSON_DEPTH)
  const out: Json = {}
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'enum' || k === 'const' || k === 'default' || k === 'required') out[k] = v
    // What a value must not be: the rules added inside would narrow `not` and so widen its schema.
    else if (k === 'not') out[k] = v
    // Maps of named schemas, not schemas themselves.
    else if (k === 'properties' || k === '$defs') out[k] = Object.fromEntries(Object.entries(v as Json).map(([n, s]) => [n, withInputRules(s)]))
    else out[k] = withInputRules(v)
  }
  const fixed = 'enum' in out || 'const' in out
  const types = Array.isArray(out.type) ? (out.type as unknown[]) : [out.type]
  // A file part (multipart) is bytes, not text: the text rule reads form fields, not files.
  const file = out.contentMediaType === 'application/octet-stream'
  if (types.includes('string') && !fixed && !file && out.pattern === undefined) out.pattern = TEXT_PATTERN
  if ((types.includes('number') || types.includes('integer')) && !fixed) {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = SAFE
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -SAFE
  }
  if (out.type === 'object' && out.additionalProperties !== false) {
    // Keys a schema does not name are still checked by the text rule, before the schema strips them.
    out.propertyNames ??= { type: 'string', pattern: TEXT_PATTERN }
    if (isAnything(out.additionalProperties)) out.additionalProperties = jsonValue(JSON_DEPTH)
  }
  return out
}

/**
 * The bound of a number the rule checks (it refuses 2^63 and past), kept to 2^53: a larger integer
 * is rounded when parsed and may land on 2^63. Narrower than the rule, never wider.
 */
const SAFE = Number.MAX_SAFE_INTEGER

const isAnything = (node: unknown) => node === undefined || node === true || (!!node && typeof node === 'object' && Object.keys(node).length === 0)

/** How deep a value typed `unknown` is described; deeper values are scalars (the schema may be narrower). */
const JSON_DEPTH = 2
/** A JSON value under the text rule, for a value typed `unknown`. */
function jsonValue(depth: number): Json {
  const scalars: Json[] = [
    { type: 'null' },
    { type: 'boolean' },
    { type: 'number', minimum: -SAFE, maximum: SAFE },
    { type: 'string', pattern: TEXT_PATTERN },
  ]
  if (depth === 0) return { anyOf: scalars }
  const inner = jsonValue(depth - 1)
  return {
    anyOf: [
      ...scalars,
      { type: 'array', items: inner },
      { type: 'object', propertyNames: { type: 'string', pattern: TEXT_PATTERN }, additionalProperties: inner },
    ],
  }
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

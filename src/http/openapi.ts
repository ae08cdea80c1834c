import { z } from 'zod'
import type { Route } from './route.ts'

/** zod emits JSON Schema 2020-12, which is OpenAPI 3.1's own dialect; the document names it once. */
function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  void _dialect
  return rest
}

/**
 * The text rule every string obeys (src/messages/text.ts): no NUL, no unpaired surrogate. Written
 * into path parameters, whose schema is otherwise just `string`.
 */
const PATH_TEXT = { type: 'string', minLength: 1, pattern: '^[^\\u0000]*$' }

/** An OpenAPI 3 document generated from the same route table and schemas that serve requests. */
export function openApiDocument(routes: readonly Route[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}')
    const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: PATH_TEXT as { type: string } }))
    if (r.query) {
      const props = (toJsonSchema(r.query).properties ?? {}) as Record<string, unknown>
      for (const [name, schema] of Object.entries(props)) params.push({ name, in: 'query', required: false, schema: schema as { type: string } })
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: params,
      responses: { default: { description: 'See the Cloud Foundry v3 API documentation for the response shape' } },
    }
    if (r.auth !== 'none') op.security = [{ bearer: [] }]
    if (r.body) {
      const type = r.url === '/oauth/token' ? 'application/x-www-form-urlencoded' : 'application/json'
      op.requestBody = { required: true, content: { [type]: { schema: toJsonSchema(r.body) } } }
    }
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

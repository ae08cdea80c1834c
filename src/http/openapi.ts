import { z } from 'zod'
import type { Route } from './route.ts'

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
}

/** An OpenAPI 3 document generated from the same route table and schemas that serve requests. */
export function openApiDocument(routes: readonly Route[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}')
    const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
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
    openapi: '3.0.3',
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

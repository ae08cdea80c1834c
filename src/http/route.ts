import type { FastifyReply } from 'fastify'
import type { z, ZodType } from 'zod'
import type { Principal } from '../auth/principal.ts'
import type { Permissions } from '../authz/permissions.ts'

export interface ApiResponse {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface RequestInfo {
  readonly ip: string
  readonly userAgent: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

export interface RouteContext<Q = unknown, B = unknown> {
  readonly params: Readonly<Record<string, string>>
  readonly query: Q
  readonly body: B
  /** The raw query string as sent, for links that keep the caller's filters. */
  readonly rawQuery: Readonly<Record<string, string | string[]>>
  readonly baseUrl: string
  readonly path: string
  readonly request: RequestInfo
  /**
   * The fastify reply, for routes declared `raw: true` only: a streaming handler calls
   * `reply.hijack()` and writes `reply.raw` itself; errors thrown before that render as usual.
   */
  readonly reply?: FastifyReply
}

export interface AuthedContext<Q = unknown, B = unknown> extends RouteContext<Q, B> {
  readonly principal: Principal
  readonly perms: Permissions
}

interface RouteBase {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  readonly url: string
  readonly summary: string
  readonly tag: string
  readonly query?: ZodType
  readonly body?: ZodType
  /** The body's media type in /openapi.json; JSON unless said. */
  readonly bodyType?: 'application/x-www-form-urlencoded' | 'application/x-yaml' | 'multipart/form-data'
  /**
   * The body as /openapi.json states it, for a route that checks its body in the handler (a YAML
   * manifest, a SCIM resource, the token grants, a quota, an upload form): no wider than what the
   * handler accepts.
   */
  readonly documentedBody?: ZodType
  /** Errors render as CC v3 (default), CC v2, or UAA's OAuth shape. */
  readonly errors?: 'v3' | 'v2' | 'uaa'
  /** The handler gets the fastify reply in `ctx.reply` (streaming responses). */
  readonly raw?: boolean
}

export interface PublicRoute extends RouteBase {
  readonly auth: 'none'
  handler(ctx: RouteContext): Promise<ApiResponse>
}

export interface AuthedRoute extends RouteBase {
  /** `read` needs a CC read scope, `write` a CC write scope (admin has both). */
  readonly auth: 'read' | 'write'
  handler(ctx: AuthedContext): Promise<ApiResponse>
}

export type Route = PublicRoute | AuthedRoute

/** What a schema lets through: its output type; without a schema, whatever was sent. */
export type Input<S> = S extends ZodType ? z.output<S> : unknown

type RouteDefinition<QS, BS> = Omit<RouteBase, 'query' | 'body'> & { readonly query?: QS; readonly body?: BS } & (
    | { readonly auth: 'none'; handler(ctx: RouteContext<Input<QS>, Input<BS>>): Promise<ApiResponse> }
    | { readonly auth: 'read' | 'write'; handler(ctx: AuthedContext<Input<QS>, Input<BS>>): Promise<ApiResponse> }
  )

/**
 * Defines a route whose handler sees `ctx.query` and `ctx.body` typed by the route's own zod
 * schemas: the server validates both with those schemas before the handler runs (http/server.ts).
 */
export function route<QS extends ZodType | undefined = undefined, BS extends ZodType | undefined = undefined>(r: RouteDefinition<QS, BS>): Route {
  return r as Route
}

export const ok = (body: unknown, status = 200): ApiResponse => ({ status, body })
export const noContent = (): ApiResponse => ({ status: 204 })
export const accepted = (location: string, body?: unknown): ApiResponse => ({
  status: 202,
  body,
  headers: { location },
})

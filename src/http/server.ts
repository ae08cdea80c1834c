import crypto from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import type { Logger } from 'pino'
import type { Principal } from '../auth/principal.ts'
import { UaaError } from '../auth/uaa-error.ts'
import { Permissions } from '../authz/permissions.ts'
import { ApiError, apiError } from '../errors/api-error.ts'
import { isMultipartBody, readMultipartBody, type UploadSpool } from '../bits/upload-form.ts'
import { renderV2, renderV3, type RenderedError } from '../errors/render.ts'
import type { Route, RouteContext } from './route.ts'
import { checkBodyText, checkPathText, checkQueryText, parseBody, parseQuery } from '../messages/validate.ts'
import { percentEncodingIsUtf8, strictUtf8 } from '../messages/text.ts'
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../store/outage.ts'

export interface HttpDeps {
  readonly logger: Logger
  readonly publicUrl: string | undefined
  authenticate(token: string): Promise<Principal | undefined>
  loadPermissions(principal: Principal): Promise<Permissions>
  /** multipart/form-data bodies (package uploads): where files spool, and the largest kept. */
  readonly uploads?: UploadSpool
}

/** A request that failed because the database is away is CC's 503 with a retry hint, not a 500. */
function outageAware(err: unknown): unknown {
  if (err instanceof ApiError || err instanceof UaaError || !isDatabaseUnavailable(err)) return err
  return new ApiError('ServiceUnavailable', 'The database is temporarily unavailable; retry shortly', {
    'retry-after': String(RETRY_AFTER_SECONDS),
  })
}

function renderUaa(err: unknown): RenderedError {
  if (err instanceof UaaError) {
    return { status: err.status, headers: {}, body: { error: err.error, error_description: err.description } }
  }
  if (err instanceof ApiError) {
    const error =
      err.status === 401 ? 'unauthorized' : err.status === 403 ? 'insufficient_scope' : err.status === 503 ? 'temporarily_unavailable' : 'invalid_request'
    return { status: err.status, headers: err.headers, body: { error, error_description: err.detail } }
  }
  return { status: 500, headers: {}, body: { error: 'server_error', error_description: 'An unknown error occurred.' } }
}

const RENDERERS = { v3: renderV3, v2: renderV2, uaa: renderUaa } as const

function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization
  if (!header) return undefined
  const m = /^bearer\s+(.+)$/i.exec(header.trim())
  return m ? m[1] : ''
}

/** A Host header we may echo into links: a DNS name, IPv4 or bracketed IPv6, and an optional port. */
const VALID_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * Links use the configured public URL; without one, the request's Host when it is a valid host
 * and X-Forwarded-Proto only when it is http or https; otherwise the address the request came in on.
 */
function baseUrlOf(req: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase()
  const proto = forwarded === 'http' || forwarded === 'https' ? forwarded : req.protocol
  const host = req.headers.host
  if (host && VALID_HOST.test(host)) return `${proto}://${host}`
  const { localAddress, localPort } = req.socket
  return `${req.protocol}://${localAddress?.includes(':') ? `[${localAddress}]` : localAddress}:${localPort}`
}

/** A URL whose escapes are not UTF-8: in the path it names nothing (404); in the query it is CF's 400. */
function checkUrlEncoding(url: string): void {
  const q = url.indexOf('?')
  const pathPart = q < 0 ? url : url.slice(0, q)
  if (!percentEncodingIsUtf8(pathPart)) throw apiError('NotFound')
  if (q >= 0 && !percentEncodingIsUtf8(url.slice(q + 1).replace(/\+/g, ' '))) {
    throw apiError('BadQueryParameter', 'the query string must be valid UTF-8')
  }
}

const utf8Body = (body: Buffer): string | undefined => strictUtf8(body)

/** Builds the fastify app from a route table: one adapter authenticates, validates and renders. */
export function buildHttpServer(routes: readonly Route[], deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: 16 * 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    // A path segment longer than any name or guid cannot name a resource: 404 (frameworkErrors).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    // The router's own refusals (a bad %-escape in the path, an over-long segment) are CF's 404.
    frameworkErrors: (_err, req, reply) => {
      const raw = reply as unknown as FastifyReply
      void raw.status(404).send((req.url.startsWith('/v2/') ? renderV2 : renderV3)(apiError('NotFound')).body)
    },
    // Node's HTTP parser refusals (headers too large, malformed requests, timeouts) happen before
    // fastify has a request; answer them in CF's shape on the raw socket.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return
      const [status, text] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout']
            : [400, 'Bad Request']
      const body = JSON.stringify(renderV3(new ApiError('InvalidRequest', `The request is invalid: ${text.toLowerCase()}`)).body)
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    },
  })

  // cf sends `Content-Type: application/json` on every request, bodies or not.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const text = utf8Body(body as Buffer)
    if (text === undefined) return done(apiError('MessageParseError', 'the request body must be valid UTF-8'), undefined)
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch {
      // CC renders every unparseable body the same way (ApplicationController rescue_from ParseError).
      done(apiError('MessageParseError', 'invalid request body'), undefined)
    }
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    const text = utf8Body(body as Buffer)
    if (text === undefined || !percentEncodingIsUtf8(text.replace(/\+/g, ' '))) {
      return done(apiError('MessageParseError', 'the form must be valid UTF-8'), undefined)
    }
    done(null, Object.fromEntries(new URLSearchParams(text)))
  })
  app.addContentTypeParser(['application/x-yaml', 'text/yaml'], { parseAs: 'buffer' }, (_req, body, done) => {
    const text = utf8Body(body as Buffer)
    if (text === undefined) return done(apiError('MessageParseError', 'the request body must be valid UTF-8'), undefined)
    done(null, text)
  })

  // Multipart bodies are read by the route adapter after authentication (readMultipartBody); the
  // plugin only parses the framing. A file over the limit is reported to the route, not thrown.
  app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: deps.uploads?.maxFileBytes ?? 0 } })

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-vcap-request-id', req.id)
  })

  const send = (reply: FastifyReply, rendered: RenderedError) =>
    reply.status(rendered.status).headers(rendered.headers).send(rendered.body)

  const authorized = async (req: FastifyRequest, needs: 'read' | 'write'): Promise<{ principal: Principal; perms: Permissions }> => {
    const token = bearerToken(req)
    if (token === undefined) throw apiError('NotAuthenticated')
    const principal = await deps.authenticate(token)
    if (!principal) throw apiError('InvalidAuthToken')
    const perms = await deps.loadPermissions(principal)
    const scoped = needs === 'read' ? perms.hasReadScope : perms.hasReadScope && perms.hasWriteScope
    if (!scoped) throw apiError('NotAuthorized')
    return { principal, perms }
  }

  for (const route of routes) {
    const render = RENDERERS[route.errors ?? 'v3']
    app.route({
      method: route.method,
      url: route.url,
      handler: async (req, reply) => {
        try {
          checkUrlEncoding(req.url)
          checkPathText(req.params as Record<string, string>)
          // As CC: authentication comes before the query is validated (an anonymous bad query is a 401).
          const who = route.auth === 'none' ? undefined : await authorized(req, route.auth)
          if (!route.query) checkQueryText(req.query)
          const base: RouteContext = {
            params: req.params as Record<string, string>,
            query: route.query ? parseQuery(route.query, req.query) : req.query,
            body: req.body,
            rawQuery: req.query as Record<string, string | string[]>,
            baseUrl: baseUrlOf(req, deps.publicUrl),
            path: req.url.split('?')[0]!,
            request: { ip: req.ip, userAgent: req.headers['user-agent'] ?? '', headers: req.headers },
            reply: route.raw ? reply : undefined,
          }
          let res
          if (!route.body) checkBodyText(req.body)
          if (route.auth === 'none') {
            res = await route.handler(route.body ? { ...base, body: parseBody(route.body, req.body) } : base)
          } else {
            const raw = deps.uploads && req.isMultipart() ? await readMultipartBody(req, deps.uploads) : req.body
            try {
              const body = route.body ? parseBody(route.body, raw) : raw
              res = await route.handler({ ...base, body, ...who! })
            } finally {
              if (isMultipartBody(raw)) await raw.dispose()
            }
          }
          // A raw route (route.raw) that took the reply over (reply.hijack()) writes its own response.
          if (reply.sent) return
          reply.status(res.status)
          if (res.headers) reply.headers(res.headers)
          // 204, and 202 without a job body (CC's `head :accepted`), have an empty body.
          if (res.status === 204 || (res.status === 202 && res.body === undefined)) return reply.send()
          return reply.send(res.body ?? {})
        } catch (caught) {
          const err = outageAware(caught)
          if (!(err instanceof ApiError) && !(err instanceof UaaError)) req.log.error({ err }, 'unhandled error')
          return send(reply, render(err))
        }
      },
    })
  }

  app.setNotFoundHandler((req, reply) => {
    const rendered = req.url.startsWith('/v2/') ? renderV2(apiError('NotFound')) : renderV3(apiError('NotFound'))
    return send(reply, rendered)
  })
  app.setErrorHandler((caught, req, reply) => {
    const err = outageAware(caught)
    if (err instanceof ApiError) return send(reply, renderV3(err))
    const status = (err as { statusCode?: number }).statusCode
    if (status === 413) return send(reply, renderV3(apiError('InvalidRequest')))
    if (status && status >= 400 && status < 500) {
      return send(reply, renderV3(apiError('MessageParseError', err instanceof Error ? err.message : 'invalid request')))
    }
    req.log.error({ err }, 'unhandled error')
    return send(reply, renderV3(err))
  })
  return app
}

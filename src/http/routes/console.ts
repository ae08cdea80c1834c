// GET /console: the auditor's web console (docs/console.md), static assets with a strict
// Content-Security-Policy. The console talks only to the public APIs, with the user's token.
import { consoleAssets, type Asset } from '../../console/assets.ts'
import { notFound } from '../../errors/api-error.ts'
import type { ApiResponse, Route, RouteContext } from '../route.ts'
import { route } from '../route.ts'

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

function serve(ctx: RouteContext, a: Asset, cacheControl: string): ApiResponse {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': a.type,
    'cache-control': cacheControl,
    etag: a.etag,
    vary: 'accept-encoding',
  }
  if (ctx.request.headers['if-none-match'] === a.etag) return { status: 304, headers, body: '' }
  const accept = String(ctx.request.headers['accept-encoding'] ?? '')
  if (/\bbr\b/.test(accept))
    return { status: 200, headers: { ...headers, 'content-encoding': 'br' }, body: a.brotli }
  if (/\bgzip\b/.test(accept))
    return { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: a.gzip }
  return { status: 200, headers, body: a.body }
}

export function consoleRoutes(): Route[] {
  const index = async (ctx: RouteContext) => serve(ctx, (await consoleAssets()).index, 'no-cache')
  return [
    { method: 'GET', url: '/console', summary: 'The web console (HTML)', tag: 'Console', auth: 'none', handler: index },
    route({
      method: 'GET',
      url: '/console/assets/:file',
      summary: "The web console's script and stylesheet (content-hashed)",
      tag: 'Console',
      auth: 'none',
      async handler(ctx) {
        const a = (await consoleAssets()).files.get(ctx.params.file!)
        if (!a) throw notFound('File')
        return serve(ctx, a, 'public, max-age=31536000, immutable')
      },
    }),
  ]
}

// The console's assets (docs/console.md): the TypeScript app under app/ bundled by esbuild into one
// script and one stylesheet, content-hashed, with gzip and brotli copies. Built in memory on the
// first request for /console, so `npm start` and `npm test` need no separate build step.
import { importPackage } from '../runtime/import-package.ts'
import crypto from 'node:crypto'
import path from 'node:path'
import zlib from 'node:zlib'

export interface Asset {
  readonly type: string
  readonly body: Buffer
  readonly gzip: Buffer
  readonly brotli: Buffer
  readonly etag: string
}

export interface ConsoleAssets {
  readonly index: Asset
  /** By file name under /console/assets/, e.g. `app-1a2b3c4d.js`. */
  readonly files: ReadonlyMap<string, Asset>
}

// Bundled from its sources; from the build (dist/console/assets.js) those are still under src/.
const APP_DIR = import.meta.url.endsWith('.ts') ? path.join(import.meta.dirname, 'app') : path.join(import.meta.dirname, '..', '..', 'src', 'console', 'app')

function asset(type: string, body: Buffer): Asset {
  return {
    type,
    body,
    gzip: zlib.gzipSync(body, { level: 9 }),
    brotli: zlib.brotliCompressSync(body, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
    }),
    etag: `"${crypto.createHash('sha256').update(body).digest('hex').slice(0, 20)}"`,
  }
}

function hashed(name: string, ext: string, body: Buffer): string {
  return `${name}-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 10)}.${ext}`
}

// A ledger page with a check mark, in the console's accent colour.
const FAVICON = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="2" y="1" width="12" height="14" rx="2" fill="#0b5cad"/><path d="M5 8.5l2 2 4-5" stroke="#fff" stroke-width="1.8" fill="none"/></svg>',
)

function indexHtml(script: string, style: string): Buffer {
  return Buffer.from(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>cf-ledger console</title>
<link rel="icon" type="image/svg+xml" href="/console/assets/favicon.svg">
<link rel="stylesheet" href="/console/assets/${style}">
<script type="module" src="/console/assets/${script}"></script>
</head>
<body>
<noscript>The cf-ledger console needs JavaScript; the same answers are in the JSON API and <code>cf-ledger trail</code>.</noscript>
<div id="app"></div>
</body>
</html>
`)
}

export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  // esbuild loads with the first /console request, not with the server.
  const esbuild = await importPackage<typeof import('esbuild')>('esbuild')
  const result = await esbuild.build({
    entryPoints: [path.join(APP_DIR, 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  })
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))
  if (!js || !css) throw new Error('console build produced no script or stylesheet')
  const jsBody = Buffer.from(js.contents)
  const cssBody = Buffer.from(css.contents)
  const script = hashed('app', 'js', jsBody)
  const style = hashed('app', 'css', cssBody)
  return {
    index: asset('text/html; charset=utf-8', indexHtml(script, style)),
    files: new Map([
      [script, asset('text/javascript; charset=utf-8', jsBody)],
      [style, asset('text/css; charset=utf-8', cssBody)],
      ['favicon.svg', asset('image/svg+xml', FAVICON)],
    ]),
  }
}

let built: Promise<ConsoleAssets> | undefined

/** The assets, built once per process; a failed build is retried on the next request. */
export function consoleAssets(): Promise<ConsoleAssets> {
  built ??= buildConsoleAssets().catch((err: unknown) => {
    built = undefined
    throw err
  })
  return built
}

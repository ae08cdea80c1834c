// `npm run bundle`: the server as shipped, in dist/bundle/ (docs/operations.md, "Build").
// - main.cjs: the whole CLI and server in one CommonJS file, so that boot.js can compile it
//   through V8's code cache (vm.Script takes cached data; ES modules cannot without a flag);
// - boot.js: the entry bin/cf-ledger runs;
// - the worker threads' entries, as ES modules.
// PGlite stays a package (its WASM and data files), as do the optional pg-native and esbuild.
import fs from 'node:fs'
import path from 'node:path'
import { build, type BuildOptions } from 'esbuild'

const root = path.resolve(import.meta.dirname, '..')
const outdir = path.join(root, 'dist', 'bundle')

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['@electric-sql/pglite', 'pg-native', 'esbuild'],
  // pg asks for undici (~50 ms of every start) only when `navigator` says it runs in a browser-like host.
  define: { navigator: '{"userAgent":"Node.js"}' },
}

fs.rmSync(outdir, { recursive: true, force: true })
await Promise.all([
  build({
    ...common,
    entryPoints: { main: path.join(root, 'src/cli/main.ts') },
    outdir,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    inject: [path.join(root, 'scripts/cjs-import-meta.ts')],
    define: { ...common.define, 'import.meta.url': 'importMetaUrl', 'import.meta.dirname': 'importMetaDirname' },
  }),
  build({
    ...common,
    entryPoints: {
      boot: path.join(root, 'src/cli/boot.ts'),
      'pglite-worker': path.join(root, 'src/store/pglite-worker.ts'),
      'verify-leaves-worker': path.join(root, 'src/ledger/verify-leaves-worker.ts'),
    },
    outdir,
    format: 'esm',
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  }),
])

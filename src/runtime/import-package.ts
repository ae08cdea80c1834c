// `import()` of a package the bundle leaves out (PGlite, esbuild). Inside the bundle that
// boot.js compiles with vm.Script, Node 20 runs an `import()` only through an experimental hook
// (a warning on every run, or --experimental-vm-modules), so boot.js, a real ES module, lends its
// own `import()` through this key; from the sources and `dist/`, the native one is used.
const KEY = Symbol.for('cf-ledger.importPackage')

type Importer = (specifier: string) => Promise<unknown>

/** Imports a package by name, as an ES module would. */
export function importPackage<T>(specifier: string): Promise<T> {
  const lent = (globalThis as { [KEY]?: Importer })[KEY]
  return (lent ? lent(specifier) : import(specifier)) as Promise<T>
}

/** Called by boot.js before it runs the bundle. */
export function lendImporter(importer: Importer): void {
  ;(globalThis as { [KEY]?: Importer })[KEY] = importer
}

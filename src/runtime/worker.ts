// Worker threads from built JavaScript or from the TypeScript sources, alike.
import { type ResourceLimits, Worker } from 'node:worker_threads'

/**
 * The module `name` beside `callerUrl` (the caller's import.meta.url): `name.js` when built (dist/,
 * or the bundle, which builds each worker as an entry of its own), `name.ts` from source.
 */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl)
}

/**
 * Starts the module `name` beside `callerUrl` as a worker thread. From source, on Node 20 a
 * worker's entry module is loaded before any --import hook, so the worker registers tsx and then
 * imports the TypeScript entry.
 */
export function startWorker(callerUrl: string, name: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const entry = siblingModule(callerUrl, name)
  return callerUrl.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) })
    : new Worker(entry, { workerData, ...(resourceLimits ? { resourceLimits } : {}) })
}

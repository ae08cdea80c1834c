// The leaf pass of `cf-ledger verify` split over worker threads (verify-leaves.ts): on PostgreSQL
// the pass is the JavaScript of a million entries (reading, canonical JSON, SHA-256), one core's
// work, while the second core idles between PostgreSQL's reads.
import { startWorker } from '../runtime/worker.ts'
import { LEAF_BATCH, type LogProblem, type PrunedLeaf } from './verify-leaves.ts'

export interface ParallelLeaves {
  readonly databaseUrl: string
  /** An exported snapshot (pg_export_snapshot) the workers adopt, so all read what the caller reads. */
  readonly snapshot: string
  readonly workers: number
  /** Below this many leaves the pass stays on the calling thread (a worker takes ~0.1 s to start). */
  readonly minLeaves: number
  /** Leaves a query reads (LEAF_BATCH unless given; tests split small logs with it). */
  readonly batch?: number | undefined
}

/** What the caller gives each worker (verify-leaves-worker.ts). */
export interface LeafWorkerData {
  readonly databaseUrl: string
  readonly snapshot: string
  readonly from: number
  readonly to: number
  readonly archivedSeqs: Float64Array
  readonly max: number
  readonly batch: number
}

export type LeafWorkerMessage = { readonly pruned: PrunedLeaf[] } | { readonly done: { readonly leaves: number; readonly problems: LogProblem[] } }

interface PoolRun extends ParallelLeaves {
  readonly size: number
  readonly archivedSeqs: Float64Array
  readonly max: number
  add(p: LogProblem): void
  onPruned(leaves: PrunedLeaf[]): void
}

// The server's 2 MiB young generation (bin/cf-ledger) keeps its resident memory small; a worker
// that turns a million rows into garbage spends a third of its time collecting it with that.
const YOUNG_GENERATION = { maxYoungGenerationSizeMb: 48 }

/** Contiguous ranges of whole batches, one per worker. */
function ranges(size: number, workers: number, batch: number): Array<[number, number]> {
  const batches = Math.ceil(size / batch)
  const per = Math.ceil(batches / workers)
  const out: Array<[number, number]> = []
  for (let b = 0; b < batches; b += per) out.push([b * batch, Math.min(size, (b + per) * batch)])
  return out
}

/** Checks leaves [0, size) in workers; their findings are added in leaf order once all are done. */
export async function scanLeavesInWorkers(run: PoolRun): Promise<number> {
  const batch = run.batch ?? LEAF_BATCH
  const results = await Promise.all(
    ranges(run.size, run.workers, batch).map(
      ([from, to]) =>
        new Promise<{ leaves: number; problems: LogProblem[] }>((resolve, reject) => {
          const data: LeafWorkerData = { databaseUrl: run.databaseUrl, snapshot: run.snapshot, from, to, archivedSeqs: run.archivedSeqs, max: run.max, batch }
          const worker = startWorker(import.meta.url, 'verify-leaves-worker', data, YOUNG_GENERATION)
          let result: { leaves: number; problems: LogProblem[] } | undefined
          worker.on('message', (m: LeafWorkerMessage) => {
            if ('pruned' in m) run.onPruned(m.pruned)
            else result = m.done
          })
          worker.once('error', reject)
          worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`a verify worker exited (${code}) before it finished leaves ${from}..${to - 1}`))))
        }),
    ),
  )
  let leaves = 0
  for (const r of results) {
    leaves += r.leaves
    for (const p of r.problems) run.add(p)
  }
  return leaves
}

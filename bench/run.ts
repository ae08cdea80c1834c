// Runs a named benchmark: `npm run bench -- org-space [--n 500]`, `npm run bench -- tasks`.
// Each benchmark is its own script, run in a fresh process with the remaining arguments.
import { spawnSync } from 'node:child_process'
import path from 'node:path'

const BENCHMARKS: Record<string, { readonly file: string; readonly about: string }> = {
  'org-space': { file: 'org-space-create.ts', about: 'org/space creation with audit events vs the raw SQL (docs/performance.md)' },
  tasks: { file: 'tasks.ts', about: 'task latency and throughput vs a bare spawn and the raw SQL' },
  trail: { file: 'trail.ts', about: 'trail-record latency for a task with 100k output lines vs the raw SQL reads' },
  executor: { file: 'executor.ts', about: 'executor start latency and output throughput vs a bare spawn and pipe' },
  logs: { file: 'logs.ts', about: 'task output into the store and a TCP drain vs a file and a socket' },
  'audit-events': { file: 'audit-events.ts', about: 'v2/v3 audit event filters at 1M events vs the raw SQL' },
  console: { file: 'console.ts', about: 'web console time to interactive (100k-line task, 100k runs) vs its API calls, and its size' },
  start: { file: 'start.ts', about: 'start to listening with and without the V8 code cache, interleaved, vs a bare node spawn' },
  footprint: { file: 'footprint.ts', about: 'idle RSS, start time, RSS after 1,000 tasks and during 6 concurrent 120 MiB uploads vs bare node and PGlite' },
  export: { file: 'export.ts', about: 'NDJSON audit export throughput vs the raw SQL read' },
  ledger: { file: 'ledger.ts', about: 'ledger log: integration, inclusion/consistency proofs, offline proof and verify vs raw SQL and Ed25519' },
  collect: { file: 'collect.ts', about: 'collector: events/s from a 100k-event foundation vs its own read, drain lines/s vs a raw socket, end-to-trail lag' },
  cluster: { file: 'cluster.ts', about: '100 sleep-1 tasks on 1 vs 3 servers, claim latency, dead-server detection, cross-server log latency' },
}

const [name, ...rest] = process.argv.slice(2)
const names = name === 'all' ? Object.keys(BENCHMARKS) : name ? [name] : []
if (!names.length || names.some((n) => !BENCHMARKS[n])) {
  console.error(`usage: npm run bench -- <name|all> [options]\n`)
  for (const [n, b] of Object.entries(BENCHMARKS)) console.error(`  ${n.padEnd(10)} ${b.about}`)
  process.exit(2)
}
for (const n of names) {
  console.log(`\n== bench ${n}`)
  const file = path.join(import.meta.dirname, BENCHMARKS[n]!.file)
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...rest], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

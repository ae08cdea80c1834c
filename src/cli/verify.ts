// The `cf-ledger verify` command: opens the store (PostgreSQL through DATABASE_URL, or a copy of
// the embedded store's files, never the files themselves), collects the trusted checkpoint keys
// and prints the verify report. Exit status: 0 intact, 1 tampering found, 2 could not verify.
import { importPackage } from '../runtime/import-package.ts'
import crypto, { type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CHECKPOINT_LOG, KEY_FILE, keyIdOf, parsePrivateKey, PUBLIC_KEY_DIR } from '../audit/checkpoints.ts'
import type { Query, VerifyReport } from '../audit/verify-report.ts'
import { publicKeysIn, verifyLedger } from '../audit/verify.ts'
import { openSnapshotQuery } from './snapshot-query.ts'
import type { ParallelLeaves } from '../ledger/verify-leaves-pool.ts'

export interface VerifyCommandOptions {
  readonly dataDir: string
  readonly archiveDir?: string
  readonly databaseUrl?: string
  readonly publicKey?: readonly string[]
  readonly checkpointKey?: string
  /** CF_LEDGER_LOG_KEY, when the ledger log's key is configured rather than kept in the store. */
  readonly logKey?: string
  readonly json?: boolean
  readonly force?: boolean
}

/** --public-key files only, when given; otherwise every key the data directory and config know. */
export function trustedKeys(opts: VerifyCommandOptions): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>()
  const addPublic = (k: KeyObject) => keys.set(keyIdOf(k), k)
  if (opts.publicKey?.length) {
    for (const f of opts.publicKey) addPublic(crypto.createPublicKey(fs.readFileSync(f, 'utf8')))
    return keys
  }
  for (const f of publicKeysIn(path.join(opts.dataDir, PUBLIC_KEY_DIR))) addPublic(crypto.createPublicKey(fs.readFileSync(f, 'utf8')))
  const own = path.join(opts.dataDir, KEY_FILE)
  if (fs.existsSync(own)) addPublic(crypto.createPublicKey(parsePrivateKey(fs.readFileSync(own, 'utf8'), own)))
  if (opts.checkpointKey) addPublic(crypto.createPublicKey(parsePrivateKey(opts.checkpointKey, 'CF_LEDGER_CHECKPOINT_KEY')))
  return keys
}

class UsageError extends Error {}

/** The leaf pass on PostgreSQL: one worker per core (at least two), from 100,000 leaves. */
export function parallelLeaves(databaseUrl: string, snapshot: string): ParallelLeaves {
  return { databaseUrl, snapshot, workers: Math.max(2, os.availableParallelism()), minLeaves: 100_000 }
}

async function withQuery<R>(opts: VerifyCommandOptions, fn: (q: Query, parallel?: ParallelLeaves) => Promise<R>): Promise<R> {
  if (opts.databaseUrl) {
    const snapshot = await openSnapshotQuery(opts.databaseUrl)
    try {
      return await fn(snapshot.q, parallelLeaves(opts.databaseUrl, snapshot.snapshot))
    } finally {
      await snapshot.close()
    }
  }
  const dir = path.join(opts.dataDir, 'pg')
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) throw new UsageError(`no embedded store in ${opts.dataDir} (set DATABASE_URL for PostgreSQL)`)
  if (fs.existsSync(path.join(dir, 'postmaster.pid')) && !opts.force) {
    throw new UsageError(
      `the embedded store in ${opts.dataDir} is open: stop the server first (or, if it crashed, pass --force to verify a copy as it is)`,
    )
  }
  // PGlite writes to the files it opens; verify reads a throwaway copy, so the evidence is untouched.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-verify-'))
  try {
    fs.cpSync(dir, copy, { recursive: true })
    fs.rmSync(path.join(copy, 'postmaster.pid'), { force: true })
    const { PGlite } = await importPackage<typeof import('@electric-sql/pglite')>('@electric-sql/pglite')
    const db = await PGlite.create(copy)
    try {
      return await fn(async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows)
    } finally {
      await db.close()
    }
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
}

export function formatReport(r: VerifyReport): string {
  const s = r.stats
  const span = s.firstSeq === null ? 'no hash chain' : `hash chain seq ${s.firstSeq}..${s.lastSeq}`
  const log = s.log ? `; ledger log: ${s.log.leaves} leaves match their entries, ${s.log.tiles} tiles, ${s.log.checkpoints} signed log checkpoint(s)` : ''
  const checked = `${s.archivedEvents} archived events in ${s.segments} segment(s), ${s.tableEvents} events in the table (${span}), ${s.checkpoints} signed chain checkpoint(s)${log}`
  const lines: string[] = []
  if (r.ok) lines.push(`cf-ledger verify: OK: ${checked}`)
  else {
    lines.push(`cf-ledger verify: TAMPERED: ${r.problems[0]!.message}`)
    lines.push(`problems (${r.problems.length}, first by seq):`)
    for (const p of r.problems) lines.push(`  [${p.kind}] ${p.message}`)
    lines.push(`checked: ${checked}`)
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  return lines.join('\n')
}

export async function verifyCommand(opts: VerifyCommandOptions): Promise<number> {
  try {
    const report = await withQuery(opts, (q, parallel) =>
      verifyLedger(q, {
        archiveDir: opts.archiveDir ?? path.join(opts.dataDir, 'archive'),
        trustedKeys: trustedKeys(opts),
        checkpointLog: path.join(opts.dataDir, CHECKPOINT_LOG),
        logKey: opts.logKey,
        parallel,
      }),
    )
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report))
    return report.ok ? 0 : 1
  } catch (err) {
    console.error(`cf-ledger verify: ${err instanceof UsageError ? err.message : (err as Error).stack ?? err}`)
    return 2
  }
}

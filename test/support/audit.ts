// Helpers for the audit tests: run `cf-ledger verify` as an operator would, run SQL on a
// server's store, and copy a stopped store.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { CHECKPOINT_LOG } from '../../src/audit/checkpoints.ts'
import type { Query, VerifyReport } from '../../src/audit/verify-report.ts'
import { verifyLedger } from '../../src/audit/verify.ts'
import { trustedKeys } from '../../src/cli/verify.ts'
import crypto from 'node:crypto'
import { SEEDED_HEAD, seedChainedEvents, UNNEST_EVENTS } from '../../bench/seed-events.ts'
import type { EventRow } from './db.ts'
import { CLI, freshStore, startServer, type StoreKind } from './server.ts'


/** Runs `cf-ledger verify` as an operator would. */
export async function runVerify(
  store: { dataDir: string; databaseUrl?: string },
  args: string[] = [],
): Promise<{ code: number; out: string; report?: VerifyReport }> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.DATABASE_URL
  if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl
  const child = spawn(CLI, ['verify', '--data-dir', store.dataDir, '--json', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
  let report
  try {
    report = JSON.parse(out)
  } catch {
    /* not JSON: an error message */
  }
  return { code, out: out + err, report }
}

export type Q = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>

/** A connection to a stopped server's store (embedded) or to its database (PostgreSQL). */
export async function openStore(store: { dataDir: string; databaseUrl?: string }): Promise<{ q: Q; close: () => Promise<void> }> {
  if (store.databaseUrl) {
    const c = new pg.Client({ connectionString: store.databaseUrl })
    await c.connect()
    return { q: async (t, p) => (await c.query(t, p)).rows, close: () => c.end() }
  }
  const db = await PGlite.create(path.join(store.dataDir, 'pg'))
  return { q: async (t, p) => (await db.query<Record<string, unknown>>(t, p)).rows, close: () => db.close() }
}

/** SQL on a stopped server's store (embedded) or on its database (PostgreSQL). */
export async function onStore<R>(store: { dataDir: string; databaseUrl?: string }, fn: (q: Q) => Promise<R>): Promise<R> {
  const { q, close } = await openStore(store)
  try {
    return await fn(q)
  } finally {
    await close()
  }
}

/**
 * `cf-ledger verify`'s check, in this process, through an open connection: with the keys and the
 * checkpoint copy the command would read from `dataDir` (or only `publicKey` files, as its flag).
 * The tamper tests corrupt and verify inside one rolled-back transaction, so no case copies a store
 * or starts a process; the command itself is run by the cases that test it (runVerify).
 */
export function verifyThrough(q: Q, dataDir: string, publicKey?: string[]): Promise<VerifyReport> {
  return verifyLedger(q as Query, {
    archiveDir: path.join(dataDir, 'archive'),
    trustedKeys: trustedKeys({ dataDir, publicKey }),
    checkpointLog: path.join(dataDir, CHECKPOINT_LOG),
  })
}

/** A copy of a stopped store: the data directory, and for PostgreSQL a database cloned from a template. */
export async function cloneStore(kind: StoreKind, from: { dataDir: string; databaseUrl?: string }): Promise<{ dataDir: string; databaseUrl?: string }> {
  const fresh = await freshStore(kind)
  fs.cpSync(from.dataDir, fresh.dataDir, { recursive: true })
  if (kind === 'postgres') {
    const name = new URL(fresh.databaseUrl!).pathname.slice(1)
    const template = new URL(from.databaseUrl!).pathname.slice(1)
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
    await admin.connect()
    await admin.query(`drop database ${name}`)
    // An autovacuum worker on the template makes CREATE DATABASE fail (55006); it soon leaves.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`)
        break
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 40) throw err
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    await admin.end()
  }
  return fresh
}

/** An events row as the tamper tests read it (one type with test/support/db.ts). */
export type Row = EventRow

export async function rows(q: Q): Promise<Row[]> {
  return (await q('select * from events order by seq')).map((r) => ({ ...(r as unknown as Row), seq: Number(r.seq), created_at: new Date(r.created_at as string) }))
}

export async function runVerifyText(store: { dataDir: string; databaseUrl?: string }) {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.DATABASE_URL
  if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl
  const child = spawn(CLI, ['verify', '--data-dir', store.dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
  return { code, out }
}

/**
 * A new store whose first `n` events are a hash chain, as a store upgraded from before migration
 * 0017 has: seeded before the server's first write, with `ledger_head` at its end and the seq
 * sequence past it. Events the server writes afterwards are unchained (decisions/0010).
 */
export async function storeWithChainedHistory(kind: StoreKind, n: number): Promise<{ dataDir: string; databaseUrl?: string }> {
  const fresh = await freshStore(kind)
  if (kind === 'embedded') await (await startServer(kind, fresh)).stop() // creates the store, migrated
  const start = Date.now() - n * 1000
  await onStore(fresh, async (q) => {
    const head = await seedChainedEvents(
      n,
      (seq) => ({
        seq,
        guid: crypto.randomUUID(),
        created_at: new Date(start + seq * 1000),
        type: 'audit.organization.update',
        actor: 'legacy-admin',
        actor_type: 'user',
        actor_name: 'admin',
        actor_username: 'admin',
        actee: `legacy-org-${seq % 3}`,
        actee_type: 'organization',
        actee_name: `legacy-${seq % 3}`,
        metadata: { request: { n: seq } },
        space_guid: '',
        organization_guid: `legacy-org-${seq % 3}`,
      }),
      (columns) => q(UNNEST_EVENTS, columns),
    )
    await q(SEEDED_HEAD, [head.seq, head.hash, new Date(start + n * 1000).toISOString()])
  })
  return fresh
}

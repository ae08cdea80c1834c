// The ledger log service: the log key (one per cluster, kept in the store), the integrator loop
// and checkpoint signing, run by the elected leader only; every server reads tiles and serves
// proofs. Checkpoints are pushed to the configured witnesses and their cosignatures kept.
import crypto from 'node:crypto'
import { sql } from 'kysely'
import type { Logger } from 'pino'
import { FOLD_PENDING, foldEventCounts } from '../audit/event-counts.ts'
import type { Leadership } from '../cluster/leader.ts'
import type { Db } from '../store/store.ts'
import { checkpointText } from './checkpoint.ts'
import type { LedgerConfig } from './config.ts'
import { INTEGRATION_PENDING, integrateAll } from './integrator.ts'
import { latestCheckpoint, logState, rootAt, type StoredCheckpoint } from './log-store.ts'
import { parseSkey, signerFromSeed, signNote, vkeyOf, type Signer } from './note.ts'
import { pushToWitnesses } from './witness-client.ts'

const SEED_KEY = 'ledger-log-key-seed'

/** The checkpoint origin: configured, or `cf-ledger/<host>` of the public URL. */
export function originOf(config: LedgerConfig, publicUrl: string | undefined): string {
  if (config.origin) return config.origin
  const host = publicUrl ? new URL(publicUrl).host : 'local'
  return `cf-ledger/${host}`
}

/** The configured signer key, or a seed generated once for the whole cluster and kept in the store. */
export async function loadLogSigner(db: Db, config: LedgerConfig, origin: string): Promise<Signer> {
  if (config.logKey) {
    const s = parseSkey(config.logKey)
    if (s.name !== origin) throw new Error(`CF_LEDGER_LOG_KEY is named ${s.name}, but the log origin is ${origin}`)
    return s
  }
  await db
    .insertInto('ledger_keys')
    .values({ name: SEED_KEY, value: crypto.randomBytes(32).toString('hex'), created_at: new Date() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute()
  const row = await db.selectFrom('ledger_keys').select('value').where('name', '=', SEED_KEY).executeTakeFirstOrThrow()
  return signerFromSeed(origin, Buffer.from(row.value, 'hex'))
}

/** Every key that has signed checkpoints, oldest first, with the current one last. */
export async function keyHistory(db: Db): Promise<{ vkey: string; first_used_at: string }[]> {
  const rows = (await sql<{ vkey: string; first_used_at: Date | string }>`select vkey, first_used_at from ledger_log_keys order by first_used_at`.execute(db)).rows
  return rows.map((r) => ({ vkey: r.vkey, first_used_at: new Date(r.first_used_at).toISOString() }))
}

/** Signs a checkpoint for the integrated size when it is beyond the last one. */
export async function signCheckpoint(db: Db, signer: Signer, origin: string): Promise<StoredCheckpoint | undefined> {
  const vkey = vkeyOf(signer.verifier)
  return db.transaction().execute(async (tx) => {
    const state = await logState(tx, true) // one signer at a time
    const last = await latestCheckpoint(tx)
    if (state.size === 0 || (last && last.size >= state.size)) return undefined
    const root = await rootAt(tx, state.size)
    const note = signNote(checkpointText({ origin, size: state.size, root }), [signer])
    const signedAt = new Date()
    await sql`insert into ledger_log_keys (vkey, first_used_at) values (${vkey}, ${signedAt}) on conflict (vkey) do nothing`.execute(tx)
    await sql`insert into ledger_log_checkpoints (size, root, note, vkey, signed_at) values (${state.size}, ${root}, ${note}, ${vkey}, ${signedAt})`.execute(tx)
    return { size: state.size, root, note, vkey, signed_at: signedAt, cosignatures: '' }
  })
}

/** True when the log holds leaves beyond its last checkpoint. */
const UNSIGNED_LEAVES = sql<boolean>`((select size from ledger_log where id = 1) > coalesce((select max(size) from ledger_log_checkpoints), 0))`

/**
 * What a pass has to do, in one read-only statement: an idle leader passes ten times a second,
 * and each step is otherwise a transaction (the integrator's eight statements holding the log row,
 * a fold that always writes a counter row, the signer's lock).
 */
async function dueWork(db: Db): Promise<{ integrate: boolean; fold: boolean; sign: boolean }> {
  const r = await sql<{ integrate: boolean; fold: boolean; sign: boolean }>`
    select ${INTEGRATION_PENDING} as integrate, ${FOLD_PENDING} as fold, ${UNSIGNED_LEAVES} as sign`.execute(db)
  return r.rows[0]! // a select without FROM: always one row
}

export interface LedgerLogOptions {
  readonly db: Db
  readonly config: LedgerConfig
  readonly signer: Signer
  readonly origin: string
  readonly leadership: Leadership
  readonly logger: Logger
  /** Called after a pass that appended leaves (the exporters look at once instead of at their next poll). */
  readonly onIntegrated?: () => void
}

export class LedgerLog {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private lastSigned = 0
  private stopped = false

  constructor(private readonly o: LedgerLogOptions) {}

  get vkey(): string {
    return vkeyOf(this.o.signer.verifier)
  }

  /**
   * One pass: integrate everything committed, sign if due, then fold the event counters (they are
   * not in the checkpoint, so they do not delay it). Returns the new checkpoint, if any.
   */
  async pass(force = false): Promise<StoredCheckpoint | undefined> {
    if (!(await this.o.leadership.ensure())) return undefined
    const due = await dueWork(this.o.db)
    const added = due.integrate ? await integrateAll(this.o.db) : 0
    if (added > 0) this.o.onIntegrated?.()
    const cp = await this.signIfDue(force, due.sign || added > 0)
    if (due.fold) await foldEventCounts(this.o.db)
    return cp
  }

  /** At most one checkpoint per interval, counted between their `signed_at` stamps (not from the end of a commit, which load delays). */
  private async signIfDue(force: boolean, unsigned: boolean): Promise<StoredCheckpoint | undefined> {
    if (!force && (!unsigned || Date.now() - this.lastSigned < this.o.config.checkpointIntervalMs)) return undefined
    const cp = await signCheckpoint(this.o.db, this.o.signer, this.o.origin)
    if (!cp) return undefined
    this.lastSigned = cp.signed_at.getTime()
    if (this.o.config.witnesses.length) await pushToWitnesses(this.o.db, cp, this.o.config.witnesses, this.o.logger)
    return cp
  }

  private tick(force = false): Promise<unknown> {
    this.running = this.running.then(() => this.pass(force)).catch((err) => this.o.logger.error({ err }, 'ledger log: integration or signing failed'))
    return this.running
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.o.config.integrateIntervalMs).unref()
      })
    }
    loop()
  }

  /** Integrates and signs what is left, then stops. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.tick(true)
    await this.o.leadership.close()
  }
}

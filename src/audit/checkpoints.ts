// Signed checkpoints over the hash chain: every interval the server signs (seq, chain hash, time)
// of the ledger head with an Ed25519 key, after re-checking the events appended since the
// previous checkpoint. A checkpoint pins the whole chain up to its seq: rewriting any earlier
// event, even with every later hash recomputed, or cutting events off the end no longer matches a
// signature the rewriter cannot produce without the key. `cf-ledger verify` checks them.
import crypto, { type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../store/store.ts'
import { soleLeader, type Leadership } from '../cluster/leader.ts'
import { eventHash, GENESIS_HASH, type ChainedFields } from './chain.ts'
import { checkpointText } from './chain-format.ts'
import { retryUntilLands } from '../store/retry.ts'

export interface CheckpointKey {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly keyId: string
}

export interface Checkpoint {
  readonly seq: number
  readonly hash: string
  readonly signed_at: string
  readonly key_id: string
  readonly signature: string
}

export const KEY_FILE = 'checkpoint-key.pem'
/** Public keys of every checkpoint key this data directory has used, `<key id>.pub.pem`. */
export const PUBLIC_KEY_DIR = 'checkpoint-keys'
/** A copy of every checkpoint, appended as signed, outside the database. */
export const CHECKPOINT_LOG = 'checkpoints.ndjson'

/** The first 16 hex digits of SHA-256 over the public key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)
}

function ed25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${source} is not an Ed25519 key (got ${key.asymmetricKeyType})`)
  return key
}

/** A PEM private key given inline or as a file path (CF_LEDGER_CHECKPOINT_KEY). */
export function parsePrivateKey(value: string, source: string): KeyObject {
  const pem = value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8')
  return ed25519(crypto.createPrivateKey(pem), source)
}

/**
 * The configured key, or the data directory's own (created with mode 0600 on first use). The
 * public key is also written to <data-dir>/checkpoint-keys/ so `verify` trusts it after a rotation.
 */
export function loadCheckpointKey(dataDir: string, configured: string | undefined, fromEnv = true): CheckpointKey {
  let privateKey: KeyObject
  if (configured) {
    privateKey = parsePrivateKey(configured, fromEnv ? 'CF_LEDGER_CHECKPOINT_KEY' : 'the cluster checkpoint key')
  } else {
    fs.mkdirSync(dataDir, { recursive: true })
    const file = path.join(dataDir, KEY_FILE)
    if (!fs.existsSync(file)) {
      const { privateKey: generated } = crypto.generateKeyPairSync('ed25519')
      try {
        fs.writeFileSync(file, generated.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    privateKey = parsePrivateKey(fs.readFileSync(file, 'utf8'), file)
  }
  const publicKey = crypto.createPublicKey(privateKey)
  const keyId = keyIdOf(publicKey)
  const dir = path.join(dataDir, PUBLIC_KEY_DIR)
  fs.mkdirSync(dir, { recursive: true })
  const pub = path.join(dir, `${keyId}.pub.pem`)
  if (!fs.existsSync(pub)) fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }))
  return { privateKey, publicKey, keyId }
}

/**
 * The cluster's one checkpoint key (docs/cluster.md), for servers sharing PostgreSQL: the
 * configured key, else the first key stored in the database (this data directory's old key when
 * there is none yet, or a new one). Its public key goes into the database's key history and this
 * data directory's checkpoint-keys/, which `verify` trusts, so it passes on every server.
 */
export async function loadSharedCheckpointKey(db: Db, dataDir: string, configured: string | undefined): Promise<CheckpointKey> {
  const store = async (k: CheckpointKey, withPrivate: boolean, on: Db = db) => {
    await sql`insert into cluster_keys (purpose, key_id, private_pem, public_pem)
      values ('checkpoint', ${k.keyId}, ${withPrivate ? (k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) : null},
        ${k.publicKey.export({ type: 'spki', format: 'pem' }) as string})
      on conflict do nothing`.execute(on)
  }
  if (configured) {
    const key = loadCheckpointKey(dataDir, configured)
    await store(key, false)
    return key
  }
  // Servers starting together on a new database: one creates the key, the others wait and load it.
  const pem = await db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(424242, 9)`.execute(tx)
    const row = await tx
      .selectFrom('cluster_keys')
      .select(['private_pem'])
      .where('purpose', '=', 'checkpoint')
      .where('private_pem', 'is not', null)
      .orderBy('created_at')
      .orderBy('key_id')
      .limit(1)
      .executeTakeFirst()
    if (row?.private_pem) return row.private_pem
    const own = path.join(dataDir, KEY_FILE)
    const privateKey = fs.existsSync(own) ? parsePrivateKey(fs.readFileSync(own, 'utf8'), own) : crypto.generateKeyPairSync('ed25519').privateKey
    const publicKey = crypto.createPublicKey(privateKey)
    await store({ privateKey, publicKey, keyId: keyIdOf(publicKey) }, true, tx)
    return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  })
  return loadCheckpointKey(dataDir, pem, false)
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(seq: number, hash: string, signedAt: string): Buffer {
  return Buffer.from(checkpointText(seq, hash, signedAt))
}

export function signCheckpoint(key: CheckpointKey, seq: number, hash: string, signedAt: Date): Checkpoint {
  const at = signedAt.toISOString()
  const signature = crypto.sign(null, checkpointMessage(seq, hash, at), key.privateKey).toString('base64')
  return { seq, hash, signed_at: at, key_id: key.keyId, signature }
}

export function checkpointSignatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return crypto.verify(null, checkpointMessage(c.seq, c.hash, c.signed_at), publicKey, Buffer.from(c.signature, 'base64'))
  } catch {
    return false
  }
}

type ChainRow = ChainedFields & { prev_hash: string; hash: string }

/**
 * Recomputes the chain over the events after `fromSeq` (whose hash is `fromHash`) up to `toSeq`;
 * returns the computed hash at `toSeq`, or a description of the first break.
 */
export async function rehashRange(db: Db, fromSeq: number, fromHash: string, toSeq: number): Promise<{ hash: string } | { problem: string }> {
  let prev = fromHash
  let expected = fromSeq + 1
  while (expected <= toSeq) {
    const rows = (
      await sql<ChainRow>`select seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
        actee_name, metadata, space_guid, organization_guid, prev_hash, hash
        from events where seq >= ${expected} and seq <= ${toSeq} order by seq limit 5000`.execute(db)
    ).rows
    if (!rows.length) return { problem: `events ${expected}..${toSeq} are missing` }
    for (const r of rows) {
      const row = { ...r, seq: Number(r.seq), created_at: new Date(r.created_at) }
      if (row.seq !== expected) return { problem: `event seq ${expected} is missing` }
      const h = eventHash(prev, row)
      if (h !== row.hash || row.prev_hash !== prev) return { problem: `event seq ${row.seq} (${row.guid}) does not match the chain` }
      prev = h
      expected++
    }
  }
  return { hash: prev }
}

/** Where the chain stands before the oldest stored event: the last archive's hash, or genesis. */
async function chainStart(db: Db): Promise<{ seq: number; hash: string }> {
  const a = (await sql<{ last_seq: number | string; last_hash: string }>`
    select last_seq, last_hash from ledger_archives where first_leaf is null order by last_seq desc limit 1`.execute(db)).rows[0]
  return a ? { seq: Number(a.last_seq), hash: a.last_hash } : { seq: 0, hash: GENESIS_HASH }
}

/**
 * Signs the current ledger head, unless it is already signed or the events since the last
 * checkpoint do not verify (then nothing is signed and the problem is logged: a checkpoint must
 * never vouch for a tampered chain).
 */
export async function writeCheckpoint(db: Db, key: CheckpointKey, dataDir: string, logger?: Logger): Promise<Checkpoint | undefined> {
  const head = (await sql<{ seq: number | string; hash: string }>`select seq, hash from ledger_head where id = 1`.execute(db)).rows[0]
  if (!head || Number(head.seq) === 0) return undefined
  const headSeq = Number(head.seq)
  const last = (await sql<{ seq: number | string; hash: string }>`
    select seq, hash from ledger_checkpoints order by seq desc limit 1`.execute(db)).rows[0]
  if (last && Number(last.seq) >= headSeq) return undefined
  let from = last ? { seq: Number(last.seq), hash: last.hash } : await chainStart(db)
  // A checkpoint older than the archives: start from the archives' end instead.
  const start = await chainStart(db)
  if (start.seq > from.seq) from = start
  const checked = await rehashRange(db, from.seq, from.hash, headSeq)
  if ('problem' in checked || checked.hash !== head.hash) {
    logger?.error({ problem: 'problem' in checked ? checked.problem : 'head hash mismatch', from: from.seq, head: headSeq }, 'ledger chain does not verify; checkpoint not signed')
    return undefined
  }
  const cp = signCheckpoint(key, headSeq, head.hash, new Date())
  const inserted = await sql`insert into ledger_checkpoints (seq, hash, signed_at, key_id, signature)
    values (${cp.seq}, ${cp.hash}, ${cp.signed_at}, ${cp.key_id}, ${cp.signature}) on conflict (seq) do nothing`.execute(db)
  if (Number(inserted.numAffectedRows ?? 0) === 0) return undefined
  appendCheckpointLog(dataDir, cp)
  return cp
}

export function appendCheckpointLog(dataDir: string, cp: Checkpoint): void {
  const fd = fs.openSync(path.join(dataDir, CHECKPOINT_LOG), 'a', 0o600)
  try {
    fs.writeSync(fd, `${JSON.stringify(cp)}\n`)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Signs at start, every interval (when > 0) and once more at a clean stop. */
export class CheckpointScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> = Promise.resolve()
  private readonly stopping = new AbortController()

  constructor(
    private readonly db: Db,
    private readonly key: CheckpointKey,
    private readonly dataDir: string,
    private readonly intervalSeconds: number,
    private readonly logger: Logger,
    /** Only the elected signer signs when several servers share the database. */
    private readonly leader: Leadership = soleLeader(),
  ) {}

  private tick(): Promise<unknown> {
    this.running = this.running
      // Idempotent (one checkpoint per seq), so retried until it lands while the database is away;
      // only by the elected signer when several servers share the database.
      .then(async () =>
        (await this.leader.ensure())
          ? retryUntilLands('the ledger checkpoint', () => writeCheckpoint(this.db, this.key, this.dataDir, this.logger), {
              logger: this.logger,
              signal: this.stopping.signal,
            })
          : undefined,
      )
      .catch((err) => this.logger.error({ err }, 'checkpoint failed'))
    return this.running
  }

  start(): void {
    void this.tick()
    if (this.intervalSeconds > 0) {
      this.timer = setInterval(() => void this.tick(), this.intervalSeconds * 1000)
      this.timer.unref()
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.tick()
    await this.leader.close()
  }
}

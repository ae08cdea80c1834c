// The ledger log, read like any tiled transparency log (c2sp.org/tlog-tiles) under
// /ledger/v1/log, plus proof endpoints (docs/ledger.md). Hashes are for any authenticated
// caller; entry bundles, which hold events, only for global readers.
import { z } from 'zod'
import { badQuery, notAuthorized, notFound, unprocessable } from '../../../errors/api-error.ts'
import { entryBundle } from '../../../ledger/entry-bundles.ts'
import { eventEntry } from '../../../ledger/leaf.ts'
import { checkpointAt, cosignedNote, latestCheckpoint, leafHashAt, leafOfEvent, proveConsistency, proveInclusion, readTile, type StoredCheckpoint } from '../../../ledger/log-store.ts'
import { parseTilePath, tileWidthAt } from '../../../ledger/tiles.ts'
import { findEvent, inEventScope } from '../../../queries/events.ts'
import type { Db } from '../../../store/store.ts'
import { ok, route, type ApiResponse, type Route } from '../../route.ts'

const TEXT = { 'content-type': 'text/plain; charset=utf-8' }
const IMMUTABLE = { 'content-type': 'application/octet-stream', 'cache-control': 'private, max-age=31536000, immutable' }

const size = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, { message: 'must be a non-negative integer tree size' })
  .transform(Number)
const inclusionQuery = z.object({ tree_size: size.optional() }).strict()
const consistencyQuery = z.object({ first: size, second: size.optional() }).strict()

export interface LedgerLogRouteDeps {
  readonly db: Db
  readonly vkey: () => string
  readonly keyHistory: () => Promise<{ vkey: string; first_used_at: string }[]>
}

async function requireCheckpoint(db: Db, treeSize: number | undefined): Promise<StoredCheckpoint> {
  const cp = treeSize === undefined ? await latestCheckpoint(db) : await checkpointAt(db, treeSize)
  if (!cp) throw treeSize === undefined ? unprocessable('The ledger has no signed checkpoint yet') : badQuery(`Tree size ${treeSize} has no signed checkpoint`)
  return cp
}

const b64 = (hs: readonly Buffer[]) => hs.map((h) => h.toString('base64'))

export function ledgerLogRoutes({ db, vkey, keyHistory }: LedgerLogRouteDeps): Route[] {
  return [
    {
      method: 'GET',
      url: '/ledger/v1/log/key',
      summary: "The log's verifier key (signed-note vkey)",
      tag: 'Ledger',
      auth: 'none',
      async handler(): Promise<ApiResponse> {
        return { status: 200, body: `${vkey()}\n`, headers: TEXT }
      },
    },
    {
      method: 'GET',
      url: '/ledger/v1/log/keys',
      summary: 'Every key that has signed checkpoints, for rotation',
      tag: 'Ledger',
      auth: 'none',
      async handler() {
        return ok({ current: vkey(), history: await keyHistory() })
      },
    },
    {
      method: 'GET',
      url: '/ledger/v1/log/checkpoint',
      summary: 'The latest signed checkpoint, with witness cosignatures',
      tag: 'Ledger',
      auth: 'read',
      async handler(): Promise<ApiResponse> {
        const cp = await requireCheckpoint(db, undefined)
        return { status: 200, body: cosignedNote(cp), headers: { ...TEXT, 'cache-control': 'no-cache, max-age=0' } }
      },
    },
    {
      method: 'GET',
      url: '/ledger/v1/log/tile/*',
      summary: 'A Merkle tree tile or an entry bundle (c2sp.org/tlog-tiles)',
      tag: 'Ledger',
      auth: 'read',
      async handler(ctx): Promise<ApiResponse> {
        const p = parseTilePath(ctx.params['*'] ?? '')
        if (!p) throw notFound('Tile')
        const cp = await latestCheckpoint(db)
        if (p.level === 'entries') {
          if (!ctx.perms.canReadGlobally) throw notAuthorized()
          if (!cp || tileWidthAt(0, p.index, cp.size) < p.width) throw notFound('Entry bundle')
          const bundle = await entryBundle(db, p.index, p.width)
          if (!bundle) throw notFound('Entry bundle')
          return { status: 200, body: bundle, headers: IMMUTABLE }
        }
        if (!cp || tileWidthAt(p.level, p.index, cp.size) < p.width) throw notFound('Tile')
        const tile = await readTile(db, p.level, p.index)
        if (!tile || tile.width < p.width) throw notFound('Tile')
        return { status: 200, body: tile.hashes.subarray(0, p.width * 32), headers: IMMUTABLE }
      },
    },
    route({
      method: 'GET',
      url: '/ledger/v1/log/consistency',
      summary: 'A consistency proof between two checkpointed tree sizes (RFC 9162 §2.1.4)',
      tag: 'Ledger',
      auth: 'read',
      query: consistencyQuery,
      async handler(ctx) {
        const q = ctx.query
        const second = await requireCheckpoint(db, q.second)
        if (q.first < 1 || q.first > second.size) throw badQuery(`first must be between 1 and ${second.size}`)
        const first = await checkpointAt(db, q.first)
        return ok({
          first: q.first,
          second: second.size,
          first_root: first?.root.toString('base64') ?? null,
          second_root: second.root.toString('base64'),
          proof: b64(await proveConsistency(db, q.first, second.size)),
        })
      },
    }),
    route({
      method: 'GET',
      url: '/ledger/v1/events/:guid/inclusion',
      summary: "An audit event's leaf and its inclusion proof at a checkpoint (RFC 9162 §2.1.3)",
      tag: 'Ledger',
      auth: 'read',
      query: inclusionQuery,
      async handler(ctx) {
        const q = ctx.query
        const event = await findEvent(db, ctx.params.guid!)
        if (!event || !inEventScope(ctx.perms.eventScopeV3(), event)) throw notFound('Event')
        const cp = await requireCheckpoint(db, q.tree_size)
        const index = await leafOfEvent(db, event.guid)
        if (index === undefined || index >= cp.size) throw unprocessable(`Event ${event.guid} is not yet covered by a signed checkpoint`)
        const entry = eventEntry(event)
        return ok({
          event_guid: event.guid,
          leaf_index: index,
          tree_size: cp.size,
          entry: entry.toString('base64'),
          leaf_hash: (await leafHashAt(db, index)).toString('base64'),
          proof: b64(await proveInclusion(db, index, cp.size)),
          checkpoint: cosignedNote(cp),
        })
      },
    }),
  ]
}

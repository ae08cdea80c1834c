// The evidence a browser needs to check a task's chained audit events itself
// (docs/console.md#integrity): the exact fields each event's hash covers, the stored hash before
// each event, and the newest signed chain checkpoint with its public key. Events written after the
// chain ended (decisions/0010) have no hash; their evidence is the task's `.tlog-proof`.
// Read-only; visible exactly when the task's trail is.
import { notFound } from '../../../errors/api-error.ts'
import { hashesAt, latestCheckpoint, ledgerHead } from '../../../queries/chain-evidence.ts'
import { findTaskForTrail } from '../../../queries/trails.ts'
import type { Db } from '../../../store/store.ts'
import { taskEvents } from '../../../trail/trail.ts'
import { ok, type Route, route } from '../../route.ts'

export interface LedgerChainRouteDeps {
  readonly db: Db
  /** The SPKI DER of a checkpoint key this server has signed with, by key id. */
  readonly publicKey: (keyId: string) => Buffer | undefined
}

export function ledgerChainRoutes(deps: LedgerChainRouteDeps): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/ledger/v1/tasks/:guid/chain',
      summary:
        "The hashed fields of a task's audit events, their predecessors' hashes and the newest signed checkpoint (extension)",
      tag: 'Ledger',
      auth: 'read',
      async handler(ctx) {
        const task = await findTaskForTrail(db, ctx.params.guid!)
        if (!task || !ctx.perms.canReadSpace(task.space_guid, task.organization_guid))
          throw notFound('Task')
        const events = await taskEvents(db, task.guid)
        const before = await hashesAt(
          db,
          events.filter((e) => e.hash !== null).map((e) => Number(e.seq) - 1),
        )
        const [checkpoint, head] = await Promise.all([latestCheckpoint(db), ledgerHead(db)])
        const key = checkpoint && deps.publicKey(checkpoint.key_id)
        return ok({
          format: 'cf-ledger-chain-v1',
          events: events.map((e) => {
            const seq = Number(e.seq)
            return {
              fields: {
                seq,
                guid: e.guid,
                created_at: new Date(e.created_at).toISOString(),
                type: e.type,
                actor: e.actor,
                actor_type: e.actor_type,
                actor_name: e.actor_name,
                actor_username: e.actor_username,
                actee: e.actee,
                actee_type: e.actee_type,
                actee_name: e.actee_name,
                metadata: e.metadata,
                space_guid: e.space_guid,
                organization_guid: e.organization_guid,
              },
              prev_hash: e.prev_hash,
              hash: e.hash,
              predecessor_hash: seq > 1 && e.hash !== null ? (before.get(seq - 1) ?? null) : null,
            }
          }),
          checkpoint: checkpoint ?? null,
          public_key:
            checkpoint && key
              ? { key_id: checkpoint.key_id, spki_der_base64: key.toString('base64') }
              : null,
          head,
        })
      },
    }),
  ]
}

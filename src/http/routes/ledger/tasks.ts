import { z } from 'zod'
import { listQuery, sequenceIds } from '../../../messages/list-query.ts'
import { searchTrails } from '../../../queries/trails.ts'
import { timestamp } from '../../../presenters/fields.ts'
import { presentList } from '../../../presenters/v3/pagination.ts'
import { presentTrail } from '../../../presenters/ledger/trail.ts'
import type { TaskRow } from '../../../store/schema.ts'
import type { Db } from '../../../store/store.ts'
import type { Fingerprint } from '../../../trail/fingerprint.ts'
import { commandView, loadTrail, type AppliedLimits, type TaskOutputReader } from '../../../trail/trail.ts'
import { cosignedNote, latestCheckpoint, leafOfTask, proveInclusion, storedTaskRunEntry } from '../../../ledger/log-store.ts'
import { formatProof } from '../../../ledger/proof-file.ts'
import { unprocessable } from '../../../errors/api-error.ts'
import { ok, type ApiResponse, type AuthedContext, type Route, route } from '../../route.ts'
import { commonList } from '../v3/common.ts'
import { visibleTrailTask } from '../visible.ts'

const trailQuery = z
  .object({
    output_lines: z
      .string()
      .regex(/^\d+$/, { message: 'output_lines must be an integer between 0 and 10000' })
      .transform(Number)
      .refine((n) => n <= 10000, { message: 'output_lines must be an integer between 0 and 10000' })
      .meta({ type: 'integer', minimum: 0, maximum: 10000 })
      .optional(),
  })
  .strict()

const searchQuery = listQuery({
  filters: ['actor_guids', 'actor_usernames', 'app_guids', 'app_names', 'space_guids', 'organization_guids', 'states', 'command_fingerprints', 'foundations'],
  orderBy: ['created_at', 'updated_at'],
  extra: {
    sequence_ids: sequenceIds.optional(),
    command: z.string().optional(),
  },
})

export interface LedgerTaskRouteDeps {
  readonly db: Db
  readonly output: TaskOutputReader
  readonly fingerprint: Fingerprint
  readonly limits: () => AppliedLimits
  readonly inlineOutputLines: number
}

function summary(t: TaskRow & { output_lines: { out_lines: number; err_lines: number } | null }, showCommand: boolean, baseUrl: string) {
  return {
    task: { guid: t.guid, sequence_id: t.sequence_id, name: t.name, state: t.state, failure_reason: t.failure_reason, exit_status: t.exit_status },
    foundation: t.foundation ?? null,
    actor: t.created_by,
    ...commandView(t, showCommand),
    target: {
      app: { guid: t.app_guid, name: t.target_names.app },
      space: { guid: t.space_guid, name: t.target_names.space },
      organization: { guid: t.organization_guid, name: t.target_names.organization },
    },
    created_at: timestamp(t.created_at),
    started_at: t.started_at ? new Date(t.started_at).toISOString() : null,
    finished_at: t.finished_at ? new Date(t.finished_at).toISOString() : null,
    output: t.output_lines ? { out_lines: Number(t.output_lines.out_lines), err_lines: Number(t.output_lines.err_lines) } : null,
    links: { trail: { href: `${baseUrl}/ledger/v1/tasks/${t.guid}/trail` }, output: { href: `${baseUrl}/v3/tasks/${t.guid}/output` } },
  }
}

export function ledgerTaskRoutes(deps: LedgerTaskRouteDeps): Route[] {
  const { db } = deps
  const visible = (ctx: AuthedContext) => visibleTrailTask(db, ctx)
  return [
    route({
      method: 'GET',
      url: '/ledger/v1/tasks/:guid/proof',
      summary: "A task run's offline proof: its leaf, inclusion proof and signed checkpoint (c2sp.org/tlog-proof@v1)",
      tag: 'Ledger',
      auth: 'read',
      async handler(ctx): Promise<ApiResponse> {
        const task = await visible(ctx)
        const entry = await storedTaskRunEntry(db, task.guid)
        if (!entry) throw unprocessable(`Task ${task.guid} has not finished`)
        const [index, cp] = await Promise.all([leafOfTask(db, task.guid), latestCheckpoint(db)])
        if (index === undefined || !cp || index >= cp.size) throw unprocessable(`Task ${task.guid} is not yet covered by a signed checkpoint`)
        // The extra line carries the task-run entry itself: its hash is the leaf, so it cannot be altered.
        const body = formatProof({ extra: entry, index, proof: await proveInclusion(db, index, cp.size), checkpoint: cosignedNote(cp) })
        return {
          status: 200,
          body,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': `attachment; filename="task-${task.guid}.tlog-proof"` },
        }
      },
    }),
    route({
      method: 'GET',
      url: '/ledger/v1/tasks/:guid/trail',
      summary: 'The whole record of one task run: actor, command, target, output, outcome, events and integrity (extension)',
      tag: 'Ledger',
      auth: 'read',
      query: trailQuery,
      async handler(ctx) {
        const task = await visible(ctx)
        const lines = ctx.query.output_lines ?? deps.inlineOutputLines
        const parts = await loadTrail(db, ctx.perms, task, deps.output, lines)
        return ok(presentTrail(parts, deps.limits(), ctx.baseUrl))
      },
    }),
    route({
      method: 'GET',
      url: '/ledger/v1/tasks',
      summary: 'Search task trails by actor, app, space, org, state, time and command fingerprint (extension)',
      tag: 'Ledger',
      auth: 'read',
      query: searchQuery,
      async handler(ctx) {
        const q = ctx.query
        const c = commonList(q)
        const fingerprints = [...(q.command_fingerprints ?? []), ...(typeof q.command === 'string' ? [deps.fingerprint(q.command)] : [])]
        const page = await searchTrails(
          db,
          ctx.perms,
          {
            actorGuids: q.actor_guids,
            actorUsernames: q.actor_usernames,
            appGuids: q.app_guids,
            appNames: q.app_names,
            spaceGuids: q.space_guids,
            organizationGuids: q.organization_guids,
            states: q.states,
            sequenceIds: q.sequence_ids as number[] | undefined,
            fingerprints: fingerprints.length ? fingerprints : undefined,
            createdAts: c.createdAts,
            foundations: q.foundations,
          },
          c.paging,
          c.order,
        )
        const resources = page.rows.map((t) => summary(t, ctx.perms.canReadSecretsInSpace(t.space_guid), ctx.baseUrl))
        return ok(presentList(ctx, c.paging, page.total, resources))
      },
    }),
  ]
}

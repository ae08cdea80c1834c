import { z } from 'zod'
import type { EventScope } from '../../../authz/permissions.ts'
import { apiError, badQuery } from '../../../errors/api-error.ts'
import { logSize, positionAfterSeq, prunedGap } from '../../../export/events.ts'
import type { SyslogForwarder } from '../../../export/forwarder.ts'
import type { EventStreams } from '../../../export/stream.ts'
import type { Db } from '../../../store/store.ts'
import { ok, type AuthedContext, type Route, route } from '../../route.ts'
import { permissionsOf } from '../../../queries/roles.ts'

const streamQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,15}$/, { message: 'must be a non-negative integer: the last log position the consumer has (0 for the beginning)' })
      .transform(Number)
      .optional(),
    after_seq: z
      .string()
      .regex(/^\d{1,15}$/, { message: 'must be a non-negative integer: the last event seq a consumer from before positions has' })
      .transform(Number)
      .optional(),
    follow: z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }).optional(),
    checkpoints: z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }).optional(),
    heartbeat: z
      .string()
      .regex(/^\d+$/, { message: 'must be an integer number of seconds between 1 and 300' })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 300, { message: 'must be an integer number of seconds between 1 and 300' })
      .optional(),
  })
  .strict()
  .refine((q) => q.after === undefined || q.after_seq === undefined, { message: 'give after or after_seq, not both', path: ['after_seq'] })

export const DEFAULT_HEARTBEAT_SECONDS = 15

export interface EventStreamRouteDeps {
  readonly db: Db
  readonly streams: EventStreams
  readonly forwarder: SyslogForwarder | undefined
}

/** `exp` of the (already verified) bearer token, in ms since the epoch. */
function tokenExpiry(ctx: AuthedContext): number | undefined {
  const header = ctx.request.headers.authorization
  const token = typeof header === 'string' ? header.replace(/^bearer\s+/i, '') : ''
  try {
    const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).exp
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/**
 * The audit events the caller may stream, as /v3/audit_events shows them (CC's
 * readable_event_dataset): global readers everything; others their space-auditor/developer/
 * supporter spaces and org-auditor orgs. Roles are re-read on every refill of a long stream.
 */
function scopeOf(db: Db, ctx: AuthedContext): () => Promise<EventScope> {
  if (ctx.perms.canReadGlobally) return async () => ({ all: true })
  return async () => {
    return (await permissionsOf(db, ctx.principal)).eventScopeV3()
  }
}

export function eventStreamRoutes(deps: EventStreamRouteDeps): Route[] {
  const { db } = deps
  return [
    route({
      method: 'GET',
      url: '/ledger/v1/events/stream',
      summary: 'Audit events as NDJSON in ledger log order after a position, then live; resumable (extension, docs/export.md)',
      tag: 'Ledger',
      auth: 'read',
      query: streamQuery,
      raw: true,
      async handler(ctx) {
        const q = ctx.query
        const head = await logSize(db)
        if (q.after !== undefined && q.after > head) throw badQuery(`after ${q.after} is beyond the last position of this ledger's log (${head})`)
        const after = q.after_seq !== undefined ? await positionAfterSeq(db, q.after_seq) : (q.after ?? 0)
        const gap = await prunedGap(db, after, head)
        if (gap) throw badQuery(gap)
        const reply = ctx.reply!
        reply.hijack()
        deps.streams.open(
          reply.raw,
          { 'x-vcap-request-id': String(reply.request.id), 'x-cf-ledger-head': String(head) },
          {
            after,
            follow: q.follow !== 'false',
            checkpoints: q.checkpoints === 'true',
            heartbeatMs: (q.heartbeat ?? DEFAULT_HEARTBEAT_SECONDS) * 1000,
            baseUrl: ctx.baseUrl,
            scope: scopeOf(db, ctx),
            expiresAt: tokenExpiry(ctx),
          },
        )
        return ok(undefined)
      },
    }),
    route({
      method: 'GET',
      url: '/ledger/v1/export/syslog',
      summary: 'State of the audit-event syslog forwarder: cursor, lag, last error (extension, docs/export.md)',
      tag: 'Ledger',
      auth: 'read',
      async handler(ctx) {
        if (!ctx.perms.canReadGlobally) throw apiError('NotAuthorized')
        const head = await logSize(db)
        if (!deps.forwarder) return ok({ enabled: false, head })
        const s = deps.forwarder.status()
        return ok({ ...s, head, lag: s.cursor === null ? null : head - s.cursor })
      },
    }),
  ]
}

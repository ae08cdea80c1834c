// Log entries of collected records (docs/collect.md, "In the ledger"): JCS-canonical JSON like
// local events (ledger/leaf.ts), so a collected event is provable with the same tools.
import crypto from 'node:crypto'
import { canonicalJson } from '../audit/chain.ts'
import { MAX_ENTRY_BYTES } from '../ledger/leaf.ts'

export const COLLECTED_EVENT_KIND = 'cf-ledger/collected-event@v1'
export const COLLECTED_TASK_RUN_KIND = 'cf-ledger/collected-task-run@v1'

/** A CC v3 audit event resource exactly as the foundation returned it. */
export interface CcAuditEvent {
  readonly guid: string
  readonly created_at: string
  readonly updated_at?: string
  readonly type: string
  readonly actor: { readonly guid: string; readonly type: string; readonly name: string }
  readonly target: { readonly guid: string; readonly type: string; readonly name: string }
  readonly data: Record<string, unknown>
  readonly space: { readonly guid: string } | null
  readonly organization: { readonly guid: string } | null
  readonly [k: string]: unknown
}

/** The entry of one collected event; an oversized `data` is replaced by its SHA-256, as for local events. */
export function collectedEventEntry(foundation: string, event: CcAuditEvent): Buffer {
  const full = Buffer.from(canonicalJson({ kind: COLLECTED_EVENT_KIND, foundation, event }), 'utf8')
  if (full.length <= MAX_ENTRY_BYTES) return full
  const { data, ...rest } = event
  const digest = crypto.createHash('sha256').update(canonicalJson(data)).digest('hex')
  return Buffer.from(canonicalJson({ kind: COLLECTED_EVENT_KIND, foundation, event: { ...rest, data_sha256: digest } }), 'utf8')
}

export function collectedTaskRunEntry(body: Record<string, unknown>): Buffer {
  return Buffer.from(canonicalJson({ kind: COLLECTED_TASK_RUN_KIND, ...body }), 'utf8')
}

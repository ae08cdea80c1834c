// The shapes of the public API answers the console reads (docs/task-trail.md, CC v3).

export interface Actor {
  guid: string
  type: string
  name: string | null
  username?: string | null
  origin?: string | null
  client_id?: string | null
  ip?: string | null
  user_agent?: string | null
}

export interface Named {
  guid: string
  name: string
}

export interface TaskSummary {
  task: {
    guid: string
    sequence_id: number
    name: string
    state: string
    failure_reason: string | null
    exit_status: number | null
  }
  actor: Actor
  command: string
  command_fingerprint: string | null
  target: { app: Named; space: Named; organization: Named }
  created_at: string
  started_at: string | null
  finished_at: string | null
  output: { out_lines: number; err_lines: number } | null
}

export interface Paginated<T> {
  pagination: { total_results: number; total_pages: number }
  resources: T[]
}

export interface AuditEvent {
  guid: string
  created_at: string
  type: string
  actor: { guid: string; type: string; name: string | null }
  target: { guid: string; type: string; name: string }
  data: Record<string, unknown>
  space: { guid: string } | null
  organization: { guid: string } | null
}

export interface Trail {
  task: TaskSummary['task'] & { droplet_guid: string | null }
  actor: Actor
  command: string
  command_fingerprint: string | null
  target: TaskSummary['target']
  timing: {
    created_at: string
    started_at: string | null
    finished_at: string | null
    duration_ms: number | null
  }
  resources: { requested: Record<string, unknown>; limits: Record<string, unknown> }
  events: (AuditEvent & { seq: number; hash: string; prev_hash: string })[]
  output: {
    summary: {
      out_lines?: number
      err_lines?: number
      bytes?: number
      sha256?: string
      truncated?: boolean
      dropped_lines?: number
    } | null
    total_lines: number
    truncated: boolean
  }
  integrity: { verified: boolean; events_checked: number; problem: string | null }
}

// The placeholder the server writes for a command the caller may not see (one home: src/audit/redaction.ts).
export { PRIVATE_DATA_HIDDEN as HIDDEN } from '../../audit/redaction.ts'
export const TERMINAL = new Set(['SUCCEEDED', 'FAILED'])

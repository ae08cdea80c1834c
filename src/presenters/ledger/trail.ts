import { APP_EVENT_TYPES } from '../../audit/event-types.ts'
import type { EventRow } from '../../store/schema.ts'
import { commandView, type AppliedLimits, type TrailParts } from '../../trail/trail.ts'
import { presentAuditEvent } from '../v3/audit-event.ts'

function iso(d: Date | string | null): string | null {
  return d ? new Date(d).toISOString() : null
}

/** An event as /v3/audit_events shows it, plus its place in the chain and in the ledger log. */
export function presentChainedEvent(e: EventRow, baseUrl: string, leafIndex?: number | null) {
  return {
    ...presentAuditEvent(e, baseUrl),
    seq: Number(e.seq),
    hash: e.hash,
    prev_hash: e.prev_hash,
    ...(leafIndex === undefined ? {} : { leaf_index: leafIndex }),
  }
}

/** The task trail (docs/task-trail.md): who, what command, where, what it printed, how and when it ended. */
export function presentTrail(p: TrailParts, limits: AppliedLimits, baseUrl: string) {
  const t = p.task
  const started = t.started_at ? new Date(t.started_at) : null
  const finished = t.finished_at ? new Date(t.finished_at) : null
  const complete = p.events.find((e) => e.type === APP_EVENT_TYPES.taskComplete)
  const summary = p.collected ? p.collected.outputSummary : ((complete?.metadata as { output?: Record<string, unknown> } | undefined)?.output ?? null)
  return {
    // Where the run happened: null for this server's own tasks, else the collected foundation's name.
    foundation: t.foundation ?? null,
    task: {
      guid: t.guid,
      sequence_id: t.sequence_id,
      name: t.name,
      state: t.state,
      failure_reason: t.failure_reason,
      exit_status: t.exit_status,
      droplet_guid: t.droplet_guid,
    },
    actor: t.created_by,
    ...commandView(t, p.showCommand),
    target: {
      app: { guid: t.app_guid, name: t.target_names.app },
      space: { guid: t.space_guid, name: t.target_names.space },
      organization: { guid: t.organization_guid, name: t.target_names.organization },
    },
    timing: {
      created_at: iso(t.created_at),
      started_at: iso(started),
      finished_at: iso(finished),
      duration_ms: started && finished ? finished.getTime() - started.getTime() : null,
    },
    resources: {
      requested: {
        memory_in_mb: t.memory_in_mb,
        disk_in_mb: t.disk_in_mb,
        log_rate_limit_in_bytes_per_second: t.log_rate_limit_in_bytes_per_second,
      },
      limits: {
        memory_in_mb: t.memory_in_mb,
        memory_enforcement: limits.memoryLimit,
        disk_in_mb: t.disk_in_mb,
        pids: limits.pids,
        max_run_seconds: limits.maxRunSeconds || null,
        isolation: limits.isolation,
      },
    },
    events: p.collected
      ? p.collected.events.map((c) => ({ ...c.event, foundation: p.collected!.foundation, leaf_index: c.leafIndex }))
      : p.events.map((e) => presentChainedEvent(e, baseUrl, p.leaves.events.get(Number(e.seq)) ?? null)),
    ...(p.collected ? { collection: { foundation: p.collected.foundation, unattributed_lines: p.collected.unattributed, overlapping_runs: p.collected.overlappingRuns } } : {}),
    output: {
      summary,
      total_lines: p.output.totalLines,
      truncated: p.output.truncated,
      tail: p.output.lines,
      inline_complete: p.output.lines.length >= p.output.totalLines,
      href: `${baseUrl}/v3/tasks/${t.guid}/output`,
    },
    integrity: p.integrity,
    // The task run's own leaf in the ledger log (null until the task ended and was integrated);
    // its .tlog-proof verifies offline (docs/ledger.md).
    ledger: {
      task_run_leaf_index: p.leaves.taskRun,
      proof: { href: `${baseUrl}/ledger/v1/tasks/${t.guid}/proof` },
    },
    links: {
      self: { href: `${baseUrl}/ledger/v1/tasks/${t.guid}/trail` },
      task: { href: `${baseUrl}/v3/tasks/${t.guid}` },
      app: { href: `${baseUrl}/v3/apps/${t.app_guid}` },
      output: { href: `${baseUrl}/v3/tasks/${t.guid}/output` },
      proof: { href: `${baseUrl}/ledger/v1/tasks/${t.guid}/proof` },
    },
  }
}

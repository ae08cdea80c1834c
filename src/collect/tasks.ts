// Task runs followed on a foundation until they end (docs/collect.md, "Tasks"). A run becomes a
// `tasks` row with its foundation once it is SUCCEEDED or FAILED and its output is complete (the
// `Exit status` line came, or the grace time passed), together with its run record in the ledger:
// the completion as observed (state, reason, the best completion time known).
import { sql } from 'kysely'
import { APP_EVENT_TYPES } from '../audit/event-types.ts'
import { PRIVATE_DATA_HIDDEN } from '../audit/redaction.ts'
import { canonicalJson } from '../audit/chain.ts'
import { leafHash } from '../ledger/merkle.ts'
import type { TaskCreator } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import type { Fingerprint } from '../trail/fingerprint.ts'
import type { Attributor, CollectedOutput } from './attribution.ts'
import type { CcClient } from './cc-client.ts'
import { collectedTaskRunEntry, type CcAuditEvent } from './entries.ts'
import { collectedTaskEvents } from './store.ts'

/** CC's v3 task resource, the fields the collector keeps. */
export interface CcTask {
  readonly guid: string
  readonly sequence_id: number
  readonly name: string
  readonly command?: string
  readonly state: string
  readonly memory_in_mb: number
  readonly disk_in_mb: number
  readonly log_rate_limit_in_bytes_per_second?: number
  readonly result?: { readonly failure_reason: string | null }
  readonly droplet_guid: string
  readonly created_at: string
  readonly updated_at: string
  readonly relationships: { readonly app: { readonly data: { readonly guid: string } } }
  readonly [k: string]: unknown
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED'])
export const isTerminal = (state: string) => TERMINAL.has(state)

/** Starts or refreshes following a run (from an event or from the tasks list). */
export async function followTask(db: Db, foundation: string, task: CcTask, attributor: Attributor): Promise<void> {
  const ended = isTerminal(task.state) ? new Date(task.updated_at) : null
  await sql`
    insert into collected_tasks (foundation, guid, app_guid, name, state, resource, first_seen_at, ended_at)
    values (${foundation}, ${task.guid}, ${task.relationships.app.data.guid}, ${task.name}, ${task.state}, ${JSON.stringify(task)}::jsonb, now(), ${ended})
    on conflict (foundation, guid) do update set state = excluded.state, resource = excluded.resource,
      ended_at = coalesce(collected_tasks.ended_at, excluded.ended_at)
      where not collected_tasks.recorded`.execute(db)
  attributor.register({
    taskGuid: task.guid,
    foundation,
    appGuid: task.relationships.app.data.guid,
    name: task.name,
    createdAtMs: Date.parse(task.created_at),
    endedAtMs: ended?.getTime() ?? null,
  })
}

export interface OpenTask {
  readonly guid: string
  readonly state: string
  readonly resource: CcTask
  readonly endedAt: Date | null
}

export async function openTasks(db: Db, foundation: string): Promise<OpenTask[]> {
  const rows = (await sql<{ guid: string; state: string; resource: CcTask; ended_at: Date | string | null }>`
    select guid, state, resource, ended_at from collected_tasks where foundation = ${foundation} and not recorded order by first_seen_at`.execute(db)).rows
  return rows.map((r) => ({ guid: r.guid, state: r.state, resource: r.resource, endedAt: r.ended_at === null ? null : new Date(r.ended_at) }))
}

interface Names {
  readonly app: string
  readonly space: string
  readonly organization: string
  readonly spaceGuid: string
  readonly organizationGuid: string
}

/** App, space and org names and guids as the foundation has them now (the run record keeps them). */
async function namesOf(client: CcClient, appGuid: string, fallback: CcAuditEvent | undefined): Promise<Names> {
  try {
    const app = await client.get<{ name: string; relationships: { space: { data: { guid: string } } } }>(`/v3/apps/${appGuid}`)
    const spaceGuid = app.relationships.space.data.guid
    const space = await client.get<{ name: string; relationships: { organization: { data: { guid: string } } } }>(`/v3/spaces/${spaceGuid}`)
    const orgGuid = space.relationships.organization.data.guid
    const org = await client.get<{ name: string }>(`/v3/organizations/${orgGuid}`)
    return { app: app.name, space: space.name, organization: org.name, spaceGuid, organizationGuid: orgGuid }
  } catch {
    // The app is gone (or not readable): what the task's event said is all there is.
    return {
      app: fallback?.target.name ?? '',
      space: '',
      organization: '',
      spaceGuid: fallback?.space?.guid ?? '',
      organizationGuid: fallback?.organization?.guid ?? '',
    }
  }
}

function creatorOf(create: CcAuditEvent | undefined): TaskCreator {
  if (!create) return { guid: '', type: 'unknown', name: '', username: '', origin: '', client_id: '', ip: '', user_agent: '' }
  return { guid: create.actor.guid, type: create.actor.type, name: create.actor.name, username: create.actor.name, origin: '', client_id: '', ip: '', user_agent: '' }
}

const micros = (us: number | null) => (us === null ? null : new Date(Math.floor(us / 1000)))

/**
 * Records an ended run: its `tasks` row (trail, search, CLI) and its run record (a leaf), in one
 * transaction, after its output is stored. The completion time is the `Exit status` line's
 * timestamp when the drain delivered it, else the task's `updated_at`.
 */
export async function recordRun(db: Db, client: CcClient, fingerprint: Fingerprint, foundation: string, task: CcTask, output: CollectedOutput): Promise<void> {
  const events = await collectedTaskEvents(db, foundation, task.guid)
  const create = events.find((e) => e.resource.type === APP_EVENT_TYPES.taskCreate)?.resource
  const appGuid = task.relationships.app.data.guid
  const names = await namesOf(client, appGuid, create)
  // A client without secret-reading scope (global auditor) gets no command, or CC's placeholder.
  const hidden = typeof task.command !== 'string' || task.command === PRIVATE_DATA_HIDDEN
  const command = hidden ? PRIVATE_DATA_HIDDEN : task.command!
  const finishedAt = micros(output.exitAtMicros) ?? new Date(task.updated_at)
  const completion = {
    state: task.state,
    failure_reason: task.result?.failure_reason ?? null,
    exit_status: output.exitStatus,
    completed_at: finishedAt.toISOString(),
    completed_at_from: output.exitAtMicros !== null ? 'exit_status_line' : 'updated_at',
    observed_at: new Date().toISOString(),
  }
  const row = {
    guid: task.guid,
    app_guid: appGuid,
    space_guid: names.spaceGuid,
    organization_guid: names.organizationGuid,
    sequence_id: task.sequence_id,
    name: task.name,
    command,
    state: task.state,
    memory_in_mb: task.memory_in_mb,
    disk_in_mb: task.disk_in_mb,
    log_rate_limit_in_bytes_per_second: task.log_rate_limit_in_bytes_per_second ?? -1,
    droplet_guid: task.droplet_guid ?? '',
    failure_reason: completion.failure_reason,
    exit_status: output.exitStatus,
    started_at: micros(output.firstLineMicros),
    finished_at: finishedAt,
    created_by: creatorOf(create),
    target_names: { app: names.app, space: names.space, organization: names.organization },
    command_fingerprint: hidden ? null : fingerprint(command),
    created_at: new Date(task.created_at),
    updated_at: new Date(task.updated_at),
    foundation,
  }
  const entry = collectedTaskRunEntry({
    foundation,
    task_guid: task.guid,
    sequence_id: task.sequence_id,
    name: task.name,
    actor: row.created_by,
    command_fingerprint: row.command_fingerprint,
    target: {
      app: { guid: appGuid, name: names.app },
      space: { guid: names.spaceGuid, name: names.space },
      organization: { guid: names.organizationGuid, name: names.organization },
    },
    droplet_guid: row.droplet_guid,
    state: row.state,
    failure_reason: row.failure_reason,
    exit_status: row.exit_status,
    created_at: task.created_at,
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: finishedAt.toISOString(),
    completion,
    output: output.summary ? { sha256: output.summary.sha256, bytes: output.summary.bytes, out_lines: output.summary.outLines, err_lines: output.summary.errLines, truncated: output.summary.truncated } : null,
    events: events.map((e) => ({ guid: e.resource.guid, type: e.resource.type, leaf_hash: leafHash(e.entry).toString('base64') })),
  })
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('tasks')
      .values({ ...row, created_by: JSON.stringify(row.created_by), target_names: JSON.stringify(row.target_names) } as never)
      .onConflict((oc) => oc.column('guid').doNothing())
      .execute()
    await sql`insert into ledger_task_runs (task_guid, entry) values (${task.guid}, ${entry}) on conflict (task_guid) do nothing`.execute(tx)
    await sql`update collected_tasks set recorded = true, state = ${task.state}, resource = ${canonicalJson(task)}::jsonb
      where foundation = ${foundation} and guid = ${task.guid}`.execute(tx)
  })
}

// Loggregator v2 envelopes (loggregator-api v2/envelope.proto), as this server builds them for
// tasks, and their JSON form as log-cache and the RLP gateway return them (protojson with proto
// names and unpopulated fields: int64 as strings, payload bytes as base64).
import type { TaskLogContext } from './sink.ts'

export type LogType = 'OUT' | 'ERR'

/** One log envelope. `tags` objects are shared between the envelopes of one task; never mutate them. */
export interface Envelope {
  /** Nanoseconds since the epoch; unique and increasing per source id (see LogCache.stamp). */
  timestamp: bigint
  readonly sourceId: string
  readonly instanceId: string
  readonly tags: Readonly<Record<string, string>>
  readonly type: LogType
  /** The payload as text (the bytes are its UTF-8 encoding). */
  readonly payload: string
}

/** `source_type` of a task's own lines and of its exit status line. */
export const taskSourceType = (taskName: string) => `APP/TASK/${taskName}`

/**
 * The tags CF puts on a task's log envelopes (CC metric_tags + executor source_id/instance_id, CC
 * PR #3564), plus our `task_guid` extension so one run's lines can be found when names repeat.
 */
export function taskTags(ctx: TaskLogContext, sourceType: string): Record<string, string> {
  return {
    source_type: sourceType,
    app_id: ctx.appGuid,
    app_name: ctx.appName,
    organization_id: ctx.organizationGuid,
    organization_name: ctx.organizationName,
    space_id: ctx.spaceGuid,
    space_name: ctx.spaceName,
    source_id: ctx.appGuid,
    instance_id: '0',
    task_guid: ctx.taskGuid,
  }
}

/** Tags of the drain notices written to an app's own stream (`[LGR/0] ERR …`). */
export function lgrTags(app: { guid: string; name: string; spaceGuid: string; spaceName: string; orgGuid: string; orgName: string }) {
  return {
    source_type: 'LGR',
    app_id: app.guid,
    app_name: app.name,
    organization_id: app.orgGuid,
    organization_name: app.orgName,
    space_id: app.spaceGuid,
    space_name: app.spaceName,
    source_id: app.guid,
    instance_id: '0',
  }
}

/** Diego's cell id for this server's tasks (what `Cell <id> …` lines name). */
export const CELL_ID = 'cf-ledger'

/** The executor's lifecycle lines around a task (depot/containerstore/storenode.go), all OUT. */
export const cellLines = {
  creating: (taskGuid: string) => `Cell ${CELL_ID} creating container for instance ${taskGuid}`,
  created: (taskGuid: string) => `Cell ${CELL_ID} successfully created container for instance ${taskGuid}`,
  stopping: (taskGuid: string) => `Cell ${CELL_ID} stopping instance ${taskGuid}`,
  destroying: (taskGuid: string) => `Cell ${CELL_ID} destroying container for instance ${taskGuid}`,
  destroyed: (taskGuid: string) => `Cell ${CELL_ID} successfully destroyed container for instance ${taskGuid}`,
}

/** The run step's last line on the task's own stdout (depot/steps/run_step.go). */
export function exitStatusLine(status: number, oom: boolean): string {
  return `Exit status ${status}${oom ? ' (out of memory)' : ''}`
}

/** The executor's notice when a line is over the log rate limit (log_rate_limiter.go). */
export function rateLimitNotice(bytesPerSecond: number): string {
  return `app instance exceeded log rate limit (${bytesPerSecond} bytes/sec)`
}

/** The syslog agent's drop notice, in the app's stream as `[LGR/0] ERR` (loggregator-agent). */
export function drainLossNotice(count: number, appGuid: string, anonymousUrl: string): string {
  return `${count} messages lost for application ${appGuid} in user provided syslog drain with url ${anonymousUrl}`
}

export interface EnvelopeJson {
  timestamp: string
  source_id: string
  instance_id: string
  deprecated_tags: Record<string, never>
  tags: Readonly<Record<string, string>>
  log: { payload: string; type: LogType }
}

const EMPTY = Object.freeze({}) as Record<string, never>

export function envelopeJson(e: Envelope): EnvelopeJson {
  return {
    timestamp: e.timestamp.toString(),
    source_id: e.sourceId,
    instance_id: e.instanceId,
    deprecated_tags: EMPTY,
    tags: e.tags,
    log: { payload: Buffer.from(e.payload, 'utf8').toString('base64'), type: e.type },
  }
}

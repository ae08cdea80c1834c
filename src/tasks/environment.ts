import type { AppRow, TaskRow } from '../store/schema.ts'

export interface TaskEnvInput {
  readonly task: TaskRow
  readonly app: AppRow
  readonly spaceName: string
  readonly organizationName: string
  readonly apiUrl: string
  readonly vcapServices: Record<string, unknown>
  /** The running environment variable group; the app's own variables win over it. */
  readonly runningGroup?: Readonly<Record<string, string>>
}

/**
 * The environment CF gives a task (TaskEnvironment + Diego): the running group's variables, the app's, then
 * VCAP_APPLICATION, VCAP_SERVICES, MEMORY_LIMIT and the CF_INSTANCE_* set, which win.
 */
export function taskEnvironment(i: TaskEnvInput): Record<string, string> {
  const { task, app } = i
  const vcapApplication = {
    application_id: app.guid,
    application_name: app.name,
    application_uris: [],
    application_version: task.droplet_guid,
    cf_api: i.apiUrl,
    limits: { disk: task.disk_in_mb, fds: 16384, mem: task.memory_in_mb },
    name: app.name,
    organization_id: task.organization_guid,
    organization_name: i.organizationName,
    process_id: task.guid,
    process_type: 'task',
    space_id: task.space_guid,
    space_name: i.spaceName,
    uris: [],
    users: null,
    version: task.droplet_guid,
  }
  return {
    ...i.runningGroup,
    ...app.environment_variables,
    HOME: '/home/vcap/app',
    TMPDIR: '/home/vcap/tmp',
    USER: 'vcap',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    VCAP_APPLICATION: JSON.stringify(vcapApplication),
    VCAP_SERVICES: JSON.stringify(i.vcapServices),
    MEMORY_LIMIT: `${task.memory_in_mb}m`,
    CF_INSTANCE_GUID: task.guid,
    CF_INSTANCE_INDEX: '0',
    CF_INSTANCE_IP: '127.0.0.1',
    CF_INSTANCE_INTERNAL_IP: '127.0.0.1',
    CF_INSTANCE_PORTS: '[]',
    CF_INSTANCE_ADDR: '',
    CF_INSTANCE_PORT: '',
  }
}

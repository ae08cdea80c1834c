import type { Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { AppRow, OrganizationRow, SpaceRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order, readableSpaceCondition } from './list.ts'

export interface AppFilters {
  readonly names?: readonly string[]
  readonly guids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly stacks?: readonly string[]
  readonly lifecycleType?: string
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

export interface AppWithSpace {
  readonly app: AppRow
  readonly space: SpaceRow
  readonly organization: Pick<OrganizationRow, 'guid' | 'name' | 'quota_guid'>
}

const SPACE_COLUMNS = ['guid', 'name', 'organization_guid', 'quota_guid', 'allow_ssh', 'created_at', 'updated_at', 'labels', 'annotations'] as const
// Every column of a space, so the row read through the join is a whole SpaceRow.
const everySpaceColumn: Exclude<keyof SpaceRow, (typeof SPACE_COLUMNS)[number]> extends never ? true : never = true
void everySpaceColumn

/** The app, its space and its org in one statement (every /v3/apps/:guid route starts here). */
export async function findApp(db: Db, guid: string): Promise<AppWithSpace | undefined> {
  const row = await db
    .selectFrom('apps')
    .innerJoin('spaces', 'spaces.guid', 'apps.space_guid')
    .innerJoin('organizations', 'organizations.guid', 'spaces.organization_guid')
    .selectAll('apps')
    .select(SPACE_COLUMNS.map((c) => `spaces.${c} as s__${c}` as const))
    .select(['organizations.name as o__name', 'organizations.quota_guid as o__quota_guid'])
    .where('apps.guid', '=', guid)
    .executeTakeFirst()
  if (!row) return undefined
  const app: Record<string, unknown> = {}
  const space: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('s__')) space[k.slice(3)] = v
    else if (!k.startsWith('o__')) app[k] = v
  }
  return {
    app: app as AppRow,
    space: space as SpaceRow,
    organization: { guid: space.organization_guid as string, name: row.o__name, quota_guid: row.o__quota_guid },
  }
}


export function listApps(db: Db, perms: Permissions, f: AppFilters, paging: Paging, order: Order) {
  let q = db.selectFrom('apps').innerJoin('spaces', 'spaces.guid', 'apps.space_guid').selectAll('apps')
  const scope = readableSpaceCondition(perms, 'apps.space_guid', 'spaces.organization_guid')
  if (scope) q = q.where(scope)
  if (f.names) q = q.where('apps.name', 'in', [...f.names])
  if (f.guids) q = q.where('apps.guid', 'in', [...f.guids])
  if (f.spaceGuids) q = q.where('apps.space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('spaces.organization_guid', 'in', [...f.organizationGuids])
  for (const c of [
    ...labelConditions('apps.labels', f.labels ?? []),
    ...timestampConditions('apps.created_at', f.createdAts ?? {}),
    ...timestampConditions('apps.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `apps.${order.column}`, direction: order.direction }, 'apps.guid')
}

export function processesOfApp(db: Db, appGuid: string) {
  return db.selectFrom('processes').selectAll().where('app_guid', '=', appGuid).orderBy('type').execute()
}

/** Each app's current droplet's detected `process_types` (CC's detected_start_command source). */
export async function detectedProcessTypes(db: Db, appGuids: readonly string[]): Promise<Map<string, Record<string, string>>> {
  if (!appGuids.length) return new Map()
  const rows = await db
    .selectFrom('apps')
    .innerJoin('droplets', 'droplets.guid', 'apps.current_droplet_guid')
    .select(['apps.guid as app_guid', 'droplets.process_types'])
    .where('apps.guid', 'in', [...new Set(appGuids)])
    .execute()
  return new Map(rows.map((r) => [r.app_guid, r.process_types]))
}

/** CC's ProcessModel#specified_or_detected_command. */
export function specifiedOrDetectedCommand(p: { command: string | null; type: string }, detected: Record<string, string> | undefined): string | null {
  return p.command ?? detected?.[p.type] ?? null
}

/** Each app's lifecycle, for presenting builds and droplets (their details fall back to it). */
export async function appLifecycles(db: Db, appGuids: readonly string[]): Promise<Map<string, AppRow['lifecycle']>> {
  const unique = [...new Set(appGuids)]
  const rows = unique.length ? await db.selectFrom('apps').select(['guid', 'lifecycle']).where('guid', 'in', unique).execute() : []
  return new Map(rows.map((a) => [a.guid, a.lifecycle]))
}

/** Apps by guid, for a list's `include=app`. */
export function appsByGuids(db: Db, guids: readonly string[]) {
  const unique = [...new Set(guids)]
  return unique.length ? db.selectFrom('apps').selectAll().where('guid', 'in', unique).execute() : Promise.resolve([])
}

/** The guids among `appGuids` of apps in spaces the caller can read (one query). */
export async function readableAppGuids(db: Db, perms: Permissions, appGuids: readonly string[]): Promise<Set<string>> {
  if (!appGuids.length) return new Set()
  const rows = await db
    .selectFrom('apps')
    .innerJoin('spaces', 'spaces.guid', 'apps.space_guid')
    .select(['apps.guid', 'apps.space_guid', 'spaces.organization_guid'])
    .where('apps.guid', 'in', [...appGuids])
    .execute()
  return new Set(rows.filter((r) => perms.canReadSpace(r.space_guid, r.organization_guid)).map((r) => r.guid))
}

// Fetchers: one resource by guid, only when the caller may read it (CC's fetchers). Undefined
// means the same to the caller whether the row is missing or hidden: CC answers 404 for both.
import type { Permissions } from '../authz/permissions.ts'
import type { OrganizationRow, SpaceQuotaRow, SpaceRow, TaskRow } from '../store/schema.ts'
import type { Db } from '../store/store.ts'
import { findApp, type AppWithSpace } from './apps.ts'
import { findOrganization } from './organizations.ts'
import { findPackage, type PackageInApp } from './packages.ts'
import { findVisibleRole } from './roles.ts'
import { findBinding, findServiceInstance } from './service-instances.ts'
import { findVisibleUser, type UserView } from './users.ts'
import { canSeeSpaceQuota, findSpaceQuota, spaceQuotaVisibility } from './quotas.ts'
import { findSpace } from './spaces.ts'
import { findTask } from './tasks.ts'
import { findTaskForTrail } from './trails.ts'

export async function fetchOrganization(db: Db, perms: Permissions, guid: string): Promise<OrganizationRow | undefined> {
  const org = await findOrganization(db, guid)
  return org && perms.canReadOrg(org.guid) ? org : undefined
}

export async function fetchSpace(db: Db, perms: Permissions, guid: string): Promise<SpaceRow | undefined> {
  const space = await findSpace(db, guid)
  return space && perms.canReadSpace(space.guid, space.organization_guid) ? space : undefined
}

/** Readable when its space is (the space's organization decides, not the copy on the task row). */
export async function fetchTask(db: Db, perms: Permissions, guid: string): Promise<TaskRow | undefined> {
  const task = await findTask(db, guid)
  if (!task) return undefined
  const space = await db.selectFrom('spaces').select('organization_guid').where('guid', '=', task.space_guid).executeTakeFirst()
  return space && perms.canReadSpace(task.space_guid, space.organization_guid) ? task : undefined
}

/** Readable when its space is. */
export async function fetchApp(db: Db, perms: Permissions, guid: string): Promise<AppWithSpace | undefined> {
  const found = await findApp(db, guid)
  return found && perms.canReadSpace(found.space.guid, found.space.organization_guid) ? found : undefined
}

export async function fetchPackage(db: Db, perms: Permissions, guid: string): Promise<PackageInApp | undefined> {
  const found = await findPackage(db, guid)
  return found && perms.canReadSpace(found.space.guid, found.space.organization_guid) ? found : undefined
}

/** A task with what its trail record needs (local or collected), if the caller may read its space. */
export async function fetchTrailTask(db: Db, perms: Permissions, guid: string) {
  const task = await findTaskForTrail(db, guid)
  return task && perms.canReadSpace(task.space_guid, task.organization_guid) ? task : undefined
}

/** CC's space-quota visibility: admins and global readers, the org's managers, and members of a space it applies to. */
export async function fetchSpaceQuota(db: Db, perms: Permissions, guid: string): Promise<SpaceQuotaRow | undefined> {
  const quota = await findSpaceQuota(db, guid)
  return quota && (await canSeeSpaceQuota(db, spaceQuotaVisibility(perms), quota)) ? quota : undefined
}

/** A user the caller may see (queries/users.ts: the caller's orgs' members, or everyone for global readers). */
export const fetchUser = (db: Db, perms: Permissions, guid: string): Promise<UserView | undefined> => findVisibleUser(db, perms, guid)

/** A role the caller may see (queries/roles.ts). */
export const fetchRole = (db: Db, perms: Permissions, guid: string) => findVisibleRole(db, perms, guid)

/** A service instance in a space the caller can read, with its space's organization. */
export async function fetchServiceInstance(db: Db, perms: Permissions, guid: string) {
  const si = await findServiceInstance(db, guid)
  return si && perms.canReadSpace(si.space_guid, si.organization_guid) ? si : undefined
}

/** A credential binding of an app in a space the caller can read, with the app's space and org. */
export async function fetchBinding(db: Db, perms: Permissions, guid: string) {
  const b = await findBinding(db, guid)
  return b && perms.canReadSpace(b.space_guid, b.organization_guid) ? b : undefined
}

import { SCOPES, type Principal } from '../auth/principal.ts'
import { Permissions } from '../authz/permissions.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { paginate, timestampConditions, type Order } from './list.ts'

export interface RoleFilters {
  readonly guids?: readonly string[]
  readonly types?: readonly string[]
  readonly userGuids?: readonly string[]
  readonly spaceGuids?: readonly string[]
  readonly organizationGuids?: readonly string[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

/** Roles in spaces the caller can read, or org roles in orgs the caller belongs to. */
function scoped(db: Db, perms: Permissions) {
  const q = db.selectFrom('roles').selectAll()
  if (perms.canReadGlobally) return q
  const spaces = perms.readableSpaces()
  const orgs = perms.readableOrgs()
  const orgList = orgs === 'all' ? [] : [...orgs]
  return q.where((eb) => {
    const spaceVisible =
      spaces.all
        ? eb('space_guid', 'is not', null)
        : eb.and([
            eb('space_guid', 'is not', null),
            eb.or([
              spaces.spaces.length ? eb('space_guid', 'in', spaces.spaces) : eb.val(false),
              spaces.orgs.length ? eb('organization_guid', 'in', spaces.orgs) : eb.val(false),
            ]),
          ])
    const orgVisible = orgList.length
      ? eb.and([eb('space_guid', 'is', null), eb('organization_guid', 'in', orgList)])
      : eb.val(false)
    return eb.or([spaceVisible, orgVisible])
  })
}

export function findVisibleRole(db: Db, perms: Permissions, guid: string) {
  return scoped(db, perms).where('guid', '=', guid).executeTakeFirst()
}

export function listRoles(db: Db, perms: Permissions, f: RoleFilters, paging: Paging, order: Order) {
  let q = scoped(db, perms)
  if (f.guids) q = q.where('guid', 'in', [...f.guids])
  if (f.types) q = q.where('type', 'in', [...f.types])
  if (f.userGuids) q = q.where('user_guid', 'in', [...f.userGuids])
  if (f.spaceGuids) q = q.where('space_guid', 'in', [...f.spaceGuids])
  if (f.organizationGuids) q = q.where('organization_guid', 'in', [...f.organizationGuids]).where('space_guid', 'is', null)
  for (const c of [
    ...timestampConditions('created_at', f.createdAts ?? {}),
    ...timestampConditions('updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, order, 'guid')
}

/** Whether the user holds a role in any space of the org (an org_user role cannot go then). */
export async function hasSpaceRolesInOrg(db: Db, userGuid: string, orgGuid: string): Promise<boolean> {
  const row = await db
    .selectFrom('roles')
    .select('guid')
    .where('user_guid', '=', userGuid)
    .where('organization_guid', '=', orgGuid)
    .where('space_guid', 'is not', null)
    .executeTakeFirst()
  return row !== undefined
}

/**
 * The caller's permissions. An admin passes every check on the scope alone (each check asks
 * `isAdmin` or `canReadGlobally` before any role), so an admin's roles are not read.
 */
export async function permissionsOf(db: Db, principal: Principal): Promise<Permissions> {
  return new Permissions(principal, principal.scopes.has(SCOPES.admin) ? [] : await roleGrantsOf(db, principal.guid))
}

/** The role grants a user's permissions are built from (authz/permissions.ts). */
export function roleGrantsOf(db: Db, userGuid: string) {
  return db.selectFrom('roles').select(['type', 'organization_guid', 'space_guid']).where('user_guid', '=', userGuid).execute()
}

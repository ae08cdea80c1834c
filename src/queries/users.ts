import { ORG_ROLE_TYPES, type Permissions } from '../authz/permissions.ts'
import type { Requirement } from '../messages/label-selector.ts'
import type { Paging, TimestampOps } from '../messages/list-query.ts'
import type { Db } from '../store/store.ts'
import { labelConditions, paginate, timestampConditions, type Order } from './list.ts'

/** A CC user joined with its UAA identity (null when the guid is a client or unknown to UAA). */
export interface UserView {
  readonly guid: string
  readonly created_at: Date
  readonly updated_at: Date
  readonly username: string | null
  readonly origin: string | null
  readonly labels: Record<string, string>
  readonly annotations: Record<string, string>
}

export interface UserFilters {
  readonly guids?: readonly string[]
  readonly usernames?: readonly string[]
  readonly origins?: readonly string[]
  readonly labels?: readonly Requirement[]
  readonly createdAts?: TimestampOps
  readonly updatedAts?: TimestampOps
}

function usersWithIdentity(db: Db) {
  // A CC user's username/origin live in UAA; clients have none. Several UAA users cannot
  // share an id, so the join adds at most one row.
  return db
    .selectFrom('users')
    .leftJoin('uaa_users', 'uaa_users.id', 'users.guid')
    .select([
      'users.guid',
      'users.created_at',
      'users.updated_at',
      'users.labels',
      'users.annotations',
      'uaa_users.username',
      'uaa_users.origin',
    ])
}

/** Users the caller may see: all for global readers, else members of the caller's orgs plus self. */
function scoped(db: Db, perms: Permissions) {
  const q = usersWithIdentity(db)
  if (perms.canReadGlobally) return q
  const orgs = perms.readableOrgs()
  const memberOrgs = orgs === 'all' ? [] : orgs
  return q.where((eb) =>
    eb.or([
      eb('users.guid', '=', perms.principal.guid),
      memberOrgs.length
        ? eb(
            'users.guid',
            'in',
            db
              .selectFrom('roles')
              .select('user_guid')
              .where('organization_guid', 'in', memberOrgs)
              .where('type', 'in', [...ORG_ROLE_TYPES]),
          )
        : eb.val(false),
    ]),
  )
}

export async function findVisibleUser(db: Db, perms: Permissions, guid: string): Promise<UserView | undefined> {
  return scoped(db, perms).where('users.guid', '=', guid).executeTakeFirst()
}

export function listUsers(db: Db, perms: Permissions, f: UserFilters, paging: Paging, order: Order) {
  let q = scoped(db, perms)
  if (f.guids) q = q.where('users.guid', 'in', [...f.guids])
  if (f.usernames) q = q.where('uaa_users.username', 'in', [...f.usernames])
  if (f.origins) q = q.where('uaa_users.origin', 'in', [...f.origins])
  const conds = [
    ...labelConditions('users.labels', f.labels ?? []),
    ...timestampConditions('users.created_at', f.createdAts ?? {}),
    ...timestampConditions('users.updated_at', f.updatedAts ?? {}),
  ]
  for (const c of conds) q = q.where(c)
  const column = order.column === 'username' ? 'uaa_users.username' : `users.${order.column}`
  return paginate(q, paging, { column, direction: order.direction }, 'users.guid')
}

export function usersByGuid(db: Db, guids: readonly string[]): Promise<UserView[]> {
  if (guids.length === 0) return Promise.resolve([])
  return usersWithIdentity(db).where('users.guid', 'in', [...guids]).execute()
}


/**
 * `GET /v3/organizations/:guid/users` and `/v3/spaces/:guid/users`: users holding any role in the
 * org (its spaces included) or in the space. The caller's right to read the org or space is
 * checked by the route; every such user is then listed, as CC does.
 */
export function listUsersWithRoleIn(db: Db, where: { organizationGuid: string } | { spaceGuid: string }, f: UserFilters, paging: Paging, order: Order) {
  let q = usersWithIdentity(db).where((eb) => {
    let roles = eb.selectFrom('roles').select('roles.user_guid')
    roles = 'spaceGuid' in where ? roles.where('roles.space_guid', '=', where.spaceGuid) : roles.where('roles.organization_guid', '=', where.organizationGuid)
    return eb('users.guid', 'in', roles)
  })
  if (f.guids) q = q.where('users.guid', 'in', [...f.guids])
  if (f.usernames) q = q.where('uaa_users.username', 'in', [...f.usernames])
  if (f.origins) q = q.where('uaa_users.origin', 'in', [...f.origins])
  for (const c of [
    ...labelConditions('users.labels', f.labels ?? []),
    ...timestampConditions('users.created_at', f.createdAts ?? {}),
    ...timestampConditions('users.updated_at', f.updatedAts ?? {}),
  ])
    q = q.where(c)
  return paginate(q, paging, { column: `users.${order.column}`, direction: order.direction }, 'users.guid')
}

/** The UAA username of a user id, if UAA knows it. */
export async function uaaUsernameOf(db: Db, id: string): Promise<string | undefined> {
  return (await db.selectFrom('uaa_users').select('username').where('id', '=', id).executeTakeFirst())?.username
}

/** UAA users with this username (in one origin, when given): CC's lookup by username. */
export function uaaUsersNamed(db: Db, username: string, origin?: string) {
  let q = db.selectFrom('uaa_users').select(['id', 'username', 'origin']).where('username', '=', username)
  if (origin) q = q.where('origin', '=', origin)
  return q.execute()
}

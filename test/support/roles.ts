// Callers with one role each, for the tests that check who sees what: the role names are CC's
// role types (plus the UAA scopes admin_read_only and global_auditor, and `none`).
import crypto from 'node:crypto'
import { type Api, createUser, expectOk, grant } from './client.ts'

export const CALLER_ROLES = [
  'admin',
  'admin_read_only',
  'global_auditor',
  'organization_manager',
  'organization_auditor',
  'organization_billing_manager',
  'organization_user',
  'space_manager',
  'space_developer',
  'space_auditor',
  'space_supporter',
  'none',
] as const
export type CallerRole = (typeof CALLER_ROLES)[number]

export const GLOBAL_READERS: readonly CallerRole[] = ['admin', 'admin_read_only', 'global_auditor']

export interface CallerScope {
  readonly orgGuid: string
  readonly spaceGuid: string
}

/**
 * An Api signed in with `role` in `scope` (an org role in the org, a space role in the space with
 * the org_user role CC requires first). `as: 'client'` makes it a client_credentials client
 * instead of a user; CC's user for a client is the client id, so space and org roles work too.
 */
export async function callerWith(admin: Api, role: CallerRole, scope: CallerScope, o: { as?: 'user' | 'client'; name?: string } = {}): Promise<Api> {
  if (role === 'admin') return admin
  const id = o.name ?? `${role.replace(/_/g, '-')}-${crypto.randomUUID().slice(0, 6)}`
  const global = GLOBAL_READERS.includes(role)
  let api: Api
  let guid: string
  if (o.as === 'client') {
    const authorities = global ? [`cloud_controller.${role}`] : ['cloud_controller.read']
    expectOk(await admin.post('/oauth/clients', { client_id: id, client_secret: 's3cret', authorities, authorized_grant_types: ['client_credentials'] }), 201)
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: 's3cret' }).toString()
    api = admin.as(expectOk(await admin.request('POST', '/oauth/token', form, { 'content-type': 'application/x-www-form-urlencoded' })).body.access_token)
    guid = id
    if (!global && role !== 'none') expectOk(await admin.post('/v3/users', { guid: id }), 201)
  } else {
    const user = await createUser(admin, id)
    guid = user.guid
    if (global) {
      expectOk(await admin.post(`/Groups/cloud_controller.${role}/members`, { value: guid }), 201)
      return admin.login(id, `pw-${id}`)
    }
    api = user.api
  }
  if (global || role === 'none') return api
  if (role.startsWith('organization_')) {
    await grant(admin, role, guid, { org: scope.orgGuid })
  } else {
    await grant(admin, 'organization_user', guid, { org: scope.orgGuid })
    await grant(admin, role, guid, { space: scope.spaceGuid })
  }
  return api
}

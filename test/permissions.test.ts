// Permissions without a server: an admin's checks never depend on roles, which is why
// permissionsOf (src/queries/roles.ts) does not read them for an admin token.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SCOPES, type Principal } from '../src/auth/principal.ts'
import { Permissions, ROLE_TYPES, type RoleGrant } from '../src/authz/permissions.ts'

const principal = (scopes: string[]): Principal => ({
  guid: 'u-1',
  kind: 'user',
  username: 'u',
  email: 'u@example.com',
  origin: 'uaa',
  clientId: 'cf',
  scopes: new Set(scopes),
  tokenId: 't',
})

/** Every public check of Permissions, for one space and org. */
function checks(p: Permissions) {
  return {
    readableOrgs: p.readableOrgs(),
    canReadOrg: p.canReadOrg('org-1'),
    canManageOrg: p.canManageOrg('org-1'),
    readableSpaces: p.readableSpaces(),
    canReadSpace: p.canReadSpace('space-1', 'org-1'),
    canManageSpace: p.canManageSpace('space-1', 'org-1'),
    canWriteToSpace: p.canWriteToSpace('space-1'),
    canReadSecretsInSpace: p.canReadSecretsInSpace('space-1'),
    eventScopeV3: p.eventScopeV3(),
    eventScopeV2: p.eventScopeV2(),
    // Callers ask for a space role only when the scope did not already allow it.
    supporterOrWriter: p.canWriteToSpace('space-1') || p.hasSpaceRole('space-1', 'space_supporter'),
    secretsOrSupporter: p.canReadSecretsInSpace('space-1') || p.hasSpaceRole('space-1', 'space_supporter'),
  }
}

describe('Permissions', () => {
  it('gives an admin the same answers with or without roles', () => {
    const every: RoleGrant[] = ROLE_TYPES.map((type) =>
      type.startsWith('space') ? { type, organization_guid: null, space_guid: 'space-1' } : { type, organization_guid: 'org-1', space_guid: null },
    ) as RoleGrant[]
    const admin = principal([SCOPES.admin])
    assert.deepEqual(checks(new Permissions(admin, [])), checks(new Permissions(admin, every)))
    assert.equal(checks(new Permissions(admin, [])).canWriteToSpace, true)
  })

  it('reads roles for everyone else', () => {
    const dev = principal([SCOPES.read, SCOPES.write])
    const grants = [{ type: 'space_developer', organization_guid: null, space_guid: 'space-1' }] as RoleGrant[]
    assert.equal(new Permissions(dev, grants).canWriteToSpace('space-1'), true)
    assert.equal(new Permissions(dev, []).canWriteToSpace('space-1'), false)
  })
})

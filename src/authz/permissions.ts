import type { Principal } from '../auth/principal.ts'
import { SCOPES } from '../auth/principal.ts'

export const ORG_ROLE_TYPES = [
  'organization_user',
  'organization_auditor',
  'organization_manager',
  'organization_billing_manager',
] as const
export const SPACE_ROLE_TYPES = ['space_developer', 'space_auditor', 'space_manager', 'space_supporter'] as const
export const ROLE_TYPES = [...ORG_ROLE_TYPES, ...SPACE_ROLE_TYPES] as const
export type RoleType = (typeof ROLE_TYPES)[number]

export interface RoleGrant {
  readonly type: string
  readonly organization_guid: string | null
  readonly space_guid: string | null
}

/** The audit events a caller may read: all, or those of the listed spaces and orgs. */
export type EventScope = { readonly all: true } | { readonly all: false; readonly spaces: readonly string[]; readonly orgs: readonly string[] }

/** `'all'` or an explicit list of guids; list queries scope their SQL with it. */
export type Scope = 'all' | readonly string[]

/**
 * CF's role rules in one place (after lib/cloud_controller/permissions.rb). Handlers check, in
 * CC's order: validate → can read (404) → can write (403).
 */
export class Permissions {
  private readonly grants: readonly RoleGrant[]

  constructor(
    readonly principal: Principal,
    grants: readonly RoleGrant[],
  ) {
    this.grants = grants
  }

  private has(scope: string): boolean {
    return this.principal.scopes.has(scope)
  }

  get isAdmin(): boolean {
    return this.has(SCOPES.admin)
  }

  get isAdminReadOnly(): boolean {
    return this.has(SCOPES.adminReadOnly)
  }

  get isGlobalAuditor(): boolean {
    return this.has(SCOPES.globalAuditor)
  }

  /** Admin, admin read-only and global auditor read everything. */
  get canReadGlobally(): boolean {
    return this.isAdmin || this.isAdminReadOnly || this.isGlobalAuditor
  }

  /** Secrets (env values, task commands) are for admin and admin read-only, never global auditors. */
  get canReadSecretsGlobally(): boolean {
    return this.isAdmin || this.isAdminReadOnly
  }

  get hasReadScope(): boolean {
    return this.isAdmin || this.isAdminReadOnly || this.isGlobalAuditor || this.has(SCOPES.read)
  }

  get hasWriteScope(): boolean {
    return this.isAdmin || this.has(SCOPES.write)
  }

  private orgsWith(types: readonly string[]): string[] {
    return unique(
      this.grants.filter((g) => types.includes(g.type) && g.organization_guid && !g.space_guid).map((g) => g.organization_guid!),
    )
  }

  private spacesWith(types: readonly string[]): string[] {
    return unique(this.grants.filter((g) => types.includes(g.type) && g.space_guid).map((g) => g.space_guid!))
  }

  /**
   * Orgs the caller belongs to: any org role (CC's ROLES_FOR_ORG_READING). A space role alone
   * does not count; CC requires organization_user for it anyway.
   */
  readableOrgs(): Scope {
    if (this.canReadGlobally) return 'all'
    return this.orgsWith(ORG_ROLE_TYPES)
  }

  canReadOrg(orgGuid: string): boolean {
    return inScope(this.readableOrgs(), orgGuid)
  }

  managedOrgs(): string[] {
    return this.orgsWith(['organization_manager'])
  }

  canManageOrg(orgGuid: string): boolean {
    return this.isAdmin || this.managedOrgs().includes(orgGuid)
  }

  /** Spaces the caller can see: a space role there, or org manager of its org. */
  readableSpaces(): { readonly all: true } | { readonly all: false; orgs: string[]; spaces: string[] } {
    if (this.canReadGlobally) return { all: true }
    return { all: false, orgs: this.managedOrgs(), spaces: this.spacesWith(SPACE_ROLE_TYPES) }
  }

  canReadSpace(spaceGuid: string, orgGuid: string): boolean {
    const s = this.readableSpaces()
    return s.all || s.orgs.includes(orgGuid) || s.spaces.includes(spaceGuid)
  }

  /** Space managers and the org's managers may rename a space and manage its roles. */
  canManageSpace(spaceGuid: string, orgGuid: string): boolean {
    return this.canManageOrg(orgGuid) || this.spacesWith(['space_manager']).includes(spaceGuid)
  }

  /** Developers write apps and tasks in a space. */
  canWriteToSpace(spaceGuid: string): boolean {
    return this.isAdmin || this.spacesWith(['space_developer']).includes(spaceGuid)
  }

  hasSpaceRole(spaceGuid: string, type: string): boolean {
    return this.spacesWith([type]).includes(spaceGuid)
  }

  /**
   * Audit events a caller may read through /v3/audit_events (CC's readable_event_dataset):
   * global readers see all; others see events of spaces where they are space auditor,
   * developer or supporter, and of orgs where they are org auditor. Space roles never reach
   * org-level events (their space_guid is ''); managers and billing managers see none.
   */
  eventScopeV3(): EventScope {
    if (this.canReadGlobally) return { all: true }
    return {
      all: false,
      spaces: this.spacesWith(['space_auditor', 'space_developer', 'space_supporter']),
      orgs: this.orgsWith(['organization_auditor']),
    }
  }

  /** /v2/events (Event.user_visibility_filter): as v3, but space supporters are not included. */
  eventScopeV2(): EventScope {
    if (this.canReadGlobally) return { all: true }
    return { all: false, spaces: this.spacesWith(['space_auditor', 'space_developer']), orgs: this.orgsWith(['organization_auditor']) }
  }

  /** May this caller see secrets (env values, task commands) of resources in the space? */
  canReadSecretsInSpace(spaceGuid: string): boolean {
    return this.canReadSecretsGlobally || this.spacesWith(['space_developer']).includes(spaceGuid)
  }
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)]
}

export function inScope(scope: Scope, guid: string): boolean {
  return scope === 'all' || scope.includes(guid)
}

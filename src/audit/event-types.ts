// Event type strings, exactly as Cloud Controller writes them (app/repositories/event_types.rb).
export const EVENT_TYPES = {
  organizationCreate: 'audit.organization.create',
  organizationUpdate: 'audit.organization.update',
  organizationDeleteRequest: 'audit.organization.delete-request',
  spaceCreate: 'audit.space.create',
  spaceUpdate: 'audit.space.update',
  spaceDeleteRequest: 'audit.space.delete-request',
} as const

/** `audit.user.space_developer_add`, `audit.user.organization_manager_remove`, … */
export function roleEventType(roleType: string, change: 'add' | 'remove'): string {
  return `audit.user.${roleType}_${change}`
}

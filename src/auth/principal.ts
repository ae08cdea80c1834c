/** Who is calling, as established from a verified access token. */
export interface Principal {
  /** user_id for user tokens; the client id for client-credentials tokens (as CC does). */
  readonly guid: string
  readonly kind: 'user' | 'client'
  readonly username: string
  readonly email: string
  readonly origin: string
  readonly clientId: string
  readonly scopes: ReadonlySet<string>
  readonly tokenId: string
}

export const SCOPES = {
  read: 'cloud_controller.read',
  write: 'cloud_controller.write',
  admin: 'cloud_controller.admin',
  adminReadOnly: 'cloud_controller.admin_read_only',
  globalAuditor: 'cloud_controller.global_auditor',
} as const

/** The audit-event actor CC records for a request (lib/cloud_controller/user_audit_info.rb). */
export interface Actor {
  readonly guid: string
  readonly type: string
  readonly name: string
  readonly username: string
}

export function actorOf(p: Principal): Actor {
  // A client token has no email or user_name claim; CC coerces both to ''.
  if (p.kind === 'client') return { guid: p.clientId, type: 'user', name: '', username: '' }
  return { guid: p.guid, type: 'user', name: p.email, username: p.username }
}

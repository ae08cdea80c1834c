// The UAA-compatible endpoints' bodies and filters (src/http/routes/uaa.ts): the token form, the
// SCIM user and group-member bodies, the client body, and the SCIM filter cf sends.
import { z } from 'zod'
import { UaaError } from '../auth/uaa-error.ts'

export const tokenForm = z.object({
  grant_type: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
  refresh_token: z.string().optional(),
})

/**
 * The grants as /openapi.json states them: each with the fields the token route's case for it requires (UAA
 * answers a missing grant type or field with 400, which the all-optional form leaves to the handler).
 */
export const tokenFormDocument = z.discriminatedUnion('grant_type', [
  z.object({ grant_type: z.literal('password'), username: z.string().min(1), password: z.string(), client_id: z.string().min(1).optional() }),
  z.object({ grant_type: z.literal('client_credentials'), client_id: z.string().min(1).optional(), client_secret: z.string().optional() }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1), client_id: z.string().optional() }),
])

// The SCIM and client bodies are checked in their handlers, after the token's scope (UAA's order).
export const scimUserBody = z.object({
  userName: z.string().min(1).max(255),
  password: z.string().optional(),
  origin: z.string().optional(),
  name: z.object({ familyName: z.string().optional(), givenName: z.string().optional() }).optional(),
  emails: z.array(z.object({ value: z.string(), primary: z.boolean().optional() })).optional(),
})
export const memberBody = z.object({ value: z.string(), type: z.string().optional(), origin: z.string().optional() })
export const clientBody = z.object({
  client_id: z.string().min(1).max(255),
  client_secret: z.string().min(1),
  authorities: z.array(z.string()).optional(),
  scope: z.array(z.string()).optional(),
  authorized_grant_types: z.array(z.string()).optional(),
})

/** `userName eq "x"` and `origin eq "y"` joined with `and`: the SCIM filters cf sends. */
export function parseScimFilter(filter: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+eq\s+"([^"]*)"\s*$/i.exec(clause)
    if (!m) throw new UaaError(400, 'invalid_filter', `Invalid filter expression: [${filter}]`)
    out[m[1]!.toLowerCase()] = m[2]!
  }
  return out
}

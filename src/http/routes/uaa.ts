import type { Principal } from '../../auth/principal.ts'
import type { TokenService } from '../../auth/tokens.ts'
import { GRANTABLE_GROUPS, type Uaa } from '../../auth/uaa.ts'
import { insufficientScope, invalidToken, scimNotFound, UaaError } from '../../auth/uaa-error.ts'
import { clientBody, memberBody, parseScimFilter, scimUserBody, tokenForm, tokenFormDocument } from '../../messages/uaa.ts'
import { isUniqueViolation } from '../../store/store.ts'
import { ok, type Route, type RouteContext, route } from '../route.ts'

export interface UaaRouteDeps {
  readonly uaa: Uaa
  readonly tokens: TokenService
  authenticate(token: string): Promise<Principal | undefined>
}

function basicAuth(ctx: RouteContext): { id: string; secret: string } | undefined {
  const header = ctx.request.headers.authorization
  if (typeof header !== 'string' || !/^basic /i.test(header)) return undefined
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString()
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) }
}

async function requireScope(deps: UaaRouteDeps, ctx: RouteContext, scopes: readonly string[]): Promise<Principal> {
  const header = ctx.request.headers.authorization
  const m = typeof header === 'string' ? /^bearer\s+(.+)$/i.exec(header) : null
  if (!m) throw new UaaError(401, 'unauthorized', 'Full authentication is required to access this resource')
  const p = await deps.authenticate(m[1]!)
  if (!p) throw invalidToken('The token expired, was revoked, or the token ID is incorrect.')
  if (!scopes.some((s) => p.scopes.has(s)) && !p.scopes.has('uaa.admin')) throw insufficientScope()
  return p
}

function scimUser(u: { id: string; username: string; origin: string; email: string; given_name: string; family_name: string; created_at: Date; updated_at: Date }) {
  return {
    id: u.id,
    externalId: '',
    meta: { version: 0, created: new Date(u.created_at).toISOString(), lastModified: new Date(u.updated_at).toISOString() },
    userName: u.username,
    name: { familyName: u.family_name, givenName: u.given_name },
    emails: u.email ? [{ value: u.email, primary: true }] : [],
    active: true,
    verified: true,
    origin: u.origin,
    zoneId: 'uaa',
    schemas: ['urn:scim:schemas:core:1.0'],
  }
}

export function uaaRoutes(deps: UaaRouteDeps): Route[] {
  const { uaa } = deps
  return [
    route({
      method: 'POST',
      url: '/oauth/token',
      summary: 'Issue an access token (password, client_credentials, refresh_token grants)',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      body: tokenForm,
      bodyType: 'application/x-www-form-urlencoded',
      documentedBody: tokenFormDocument,
      async handler(ctx) {
        const form = ctx.body
        const basic = basicAuth(ctx)
        switch (form.grant_type) {
          case 'password': {
            const clientId = basic?.id ?? form.client_id
            if (!clientId) throw new UaaError(401, 'unauthorized', 'Full authentication is required to access this resource')
            if (!form.username || form.password === undefined) throw new UaaError(400, 'invalid_request', 'Missing username or password')
            return ok(await uaa.passwordGrant(form.username, form.password, clientId))
          }
          case 'client_credentials': {
            const id = form.client_id ?? basic?.id
            const secret = form.client_secret ?? basic?.secret ?? ''
            if (!id) throw new UaaError(401, 'unauthorized', 'Full authentication is required to access this resource')
            return ok(await uaa.clientCredentialsGrant(id, secret))
          }
          case 'refresh_token': {
            if (!form.refresh_token) throw new UaaError(400, 'invalid_request', 'Missing refresh_token')
            return ok(await uaa.refreshGrant(form.refresh_token, basic?.id ?? form.client_id ?? 'cf'))
          }
          case undefined:
            throw new UaaError(400, 'invalid_request', 'Missing grant type')
          default:
            throw new UaaError(400, 'unsupported_grant_type', `Unsupported grant type: ${form.grant_type}`)
        }
      },
    }),
    route({
      method: 'GET',
      url: '/login',
      summary: 'Login prompts, as cf login reads them',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler() {
        return ok({
          app: { version: '78.0.0' },
          showLoginLinks: true,
          links: {},
          zone_name: 'uaa',
          entityID: 'cf-ledger',
          commit_id: 'cf-ledger',
          idpDefinitions: {},
          prompts: { username: ['text', 'Email'], password: ['password', 'Password'] },
          timestamp: new Date().toISOString(),
        })
      },
    }),
    route({
      method: 'GET',
      url: '/token_keys',
      summary: 'Public keys that verify access tokens',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler() {
        return ok({ keys: [await deps.tokens.publicJwk()] })
      },
    }),
    route({
      method: 'GET',
      url: '/token_key',
      summary: 'The current token verification key',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler() {
        return ok(await deps.tokens.publicJwk())
      },
    }),
    route({
      method: 'DELETE',
      url: '/oauth/token/revoke/user/:userId',
      summary: "Revoke all of a user's refresh tokens",
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler(ctx) {
        const p = await requireScope(deps, ctx, ['tokens.revoke', 'uaa.admin'])
        void p
        await uaa.revokeUserTokens(ctx.params.userId!)
        return ok({ status: 'ok' })
      },
    }),
    route({
      method: 'GET',
      url: '/Users',
      summary: 'Find users (SCIM), e.g. filter=userName eq "x" and origin eq "uaa"',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler(ctx) {
        await requireScope(deps, ctx, ['scim.read', 'scim.write'])
        const filter = typeof (ctx.rawQuery as Record<string, unknown>).filter === 'string' ? String(ctx.rawQuery.filter) : ''
        const f = filter ? parseScimFilter(filter) : {}
        const rows = await uaa.searchUsers({ username: f.username, origin: f.origin, id: f.id })
        return ok({
          resources: rows.map(scimUser),
          startIndex: 1,
          itemsPerPage: rows.length,
          totalResults: rows.length,
          schemas: ['urn:scim:schemas:core:1.0'],
        })
      },
    }),
    route({
      method: 'POST',
      url: '/Users',
      summary: 'Create a user (SCIM)',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      documentedBody: scimUserBody,
      async handler(ctx) {
        await requireScope(deps, ctx, ['scim.write', 'scim.create'])
        const r = scimUserBody.safeParse(ctx.body)
        if (!r.success) throw new UaaError(400, 'invalid_scim_resource', r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
        const b = r.data
        try {
          const user = await uaa.createUser({
            username: b.userName,
            password: b.password,
            origin: b.origin,
            email: b.emails?.[0]?.value,
            givenName: b.name?.givenName,
            familyName: b.name?.familyName,
          })
          return ok(scimUser(user), 201)
        } catch (err) {
          if (isUniqueViolation(err)) throw new UaaError(409, 'scim_resource_already_exists', 'Username already in use: ' + b.userName)
          throw err
        }
      },
    }),
    route({
      method: 'DELETE',
      url: '/Users/:id',
      summary: 'Delete a user (SCIM)',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler(ctx) {
        await requireScope(deps, ctx, ['scim.write'])
        const user = await uaa.userById(ctx.params.id!)
        if (!user) throw scimNotFound(`User ${ctx.params.id} does not exist`)
        await uaa.deleteUser(user.id)
        return ok(scimUser(user))
      },
    }),
    route({
      method: 'GET',
      url: '/Groups',
      summary: 'Find groups (SCIM); a group grants its name as a scope',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler(ctx) {
        await requireScope(deps, ctx, ['scim.read', 'scim.write'])
        const filter = typeof ctx.rawQuery.filter === 'string' ? parseScimFilter(ctx.rawQuery.filter) : {}
        const names = GRANTABLE_GROUPS.filter((g) => filter.displayname === undefined || g === filter.displayname)
        const resources = names.map((g) => ({ id: g, displayName: g, schemas: ['urn:scim:schemas:core:1.0'] }))
        return ok({ resources, startIndex: 1, itemsPerPage: resources.length, totalResults: resources.length })
      },
    }),
    route({
      method: 'POST',
      url: '/Groups/:groupId/members',
      summary: 'Add a user to a group, granting its scope',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      documentedBody: memberBody,
      async handler(ctx) {
        await requireScope(deps, ctx, ['scim.write'])
        const group = ctx.params.groupId!
        if (!(GRANTABLE_GROUPS as readonly string[]).includes(group)) throw scimNotFound(`Group ${group} does not exist`)
        const body = memberBody.safeParse(ctx.body)
        if (!body.success) throw new UaaError(400, 'invalid_scim_resource', 'A member needs a value (the user id)')
        const user = await uaa.userById(body.data.value)
        if (!user) throw scimNotFound(`User ${body.data.value} does not exist`)
        await uaa.addToGroup(user, group)
        return ok({ value: user.id, type: 'USER', origin: user.origin }, 201)
      },
    }),
    route({
      method: 'POST',
      url: '/oauth/clients',
      summary: 'Register an OAuth client (for client_credentials)',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      documentedBody: clientBody,
      async handler(ctx) {
        await requireScope(deps, ctx, ['clients.write', 'clients.admin'])
        const r = clientBody.safeParse(ctx.body)
        if (!r.success) throw new UaaError(400, 'invalid_client', r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
        const authorities = r.data.authorities ?? ['uaa.none']
        const grantTypes = r.data.authorized_grant_types ?? ['client_credentials']
        await uaa.createClient({ clientId: r.data.client_id, secret: r.data.client_secret, authorities, grantTypes })
        return ok({ client_id: r.data.client_id, authorities, authorized_grant_types: grantTypes, scope: r.data.scope ?? ['uaa.none'] }, 201)
      },
    }),
    route({
      method: 'GET',
      url: '/oauth/clients/:clientId',
      summary: 'Look up an OAuth client',
      tag: 'UAA',
      auth: 'none',
      errors: 'uaa',
      async handler(ctx) {
        await requireScope(deps, ctx, ['clients.read', 'clients.write', 'clients.admin', 'cloud_controller.admin'])
        const c = await uaa.findClient(ctx.params.clientId!)
        if (!c) throw new UaaError(404, 'NoSuchClientException', `No client with requested id: ${ctx.params.clientId}`)
        return ok({ client_id: c.client_id, authorities: c.authorities, authorized_grant_types: c.grant_types, scope: ['uaa.none'] })
      },
    }),
  ]
}

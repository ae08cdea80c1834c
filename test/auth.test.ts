import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, expectOk } from './support/client.ts'
import { ADMIN_PASSWORD, startServer, stores, type TestServer } from './support/server.ts'

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const BASIC_CF = { ...FORM, authorization: `Basic ${Buffer.from('cf:').toString('base64')}` }

function decode(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())
}

for (const store of stores()) {
  describe(`UAA-compatible auth [${store}]`, () => {
    let server: TestServer
    let api: Api
    before(async () => {
      server = await startServer(store)
      api = new Api(server.url)
    })
    after(() => server.stop())

    it('issues an RS256 token with the claims cf needs for the password grant', async () => {
      const r = expectOk(await api.passwordToken('admin', ADMIN_PASSWORD))
      assert.equal(r.body.token_type, 'bearer')
      assert.ok(r.body.refresh_token)
      const header = JSON.parse(Buffer.from(r.body.access_token.split('.')[0], 'base64url').toString())
      assert.equal(header.alg, 'RS256')
      assert.ok(header.kid)
      const claims = decode(r.body.access_token)
      for (const k of ['exp', 'iat', 'jti', 'user_id', 'user_name', 'origin', 'client_id', 'scope']) assert.ok(k in claims, k)
      assert.equal(claims.user_name, 'admin')
      assert.equal(claims.client_id, 'cf')
      assert.ok((claims.scope as string[]).includes('cloud_controller.admin'))
      const keys = expectOk(await api.get('/token_keys'))
      assert.equal(keys.body.keys[0].kid, header.kid)
    })

    it('rejects a wrong password with 401 unauthorized / Bad credentials', async () => {
      const r = await api.passwordToken('admin', 'nope')
      assert.equal(r.status, 401)
      assert.deepEqual(r.body, { error: 'unauthorized', error_description: 'Bad credentials' })
    })

    it('rejects an unknown grant type with 400 unsupported_grant_type', async () => {
      const r = await api.request('POST', '/oauth/token', form({ grant_type: 'magic' }), BASIC_CF)
      assert.equal(r.status, 400)
      assert.equal(r.body.error, 'unsupported_grant_type')
    })

    it('rotates refresh tokens and refuses a used one', async () => {
      const first = expectOk(await api.passwordToken('admin', ADMIN_PASSWORD))
      const refreshed = expectOk(
        await api.request('POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }), BASIC_CF),
      )
      assert.ok(refreshed.body.access_token)
      assert.notEqual(refreshed.body.refresh_token, first.body.refresh_token)
      const reused = await api.request('POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }), BASIC_CF)
      assert.equal(reused.status, 401)
      assert.equal(reused.body.error, 'invalid_token')
    })

    it('revokes all refresh tokens of a user', async () => {
      const admin = await api.admin()
      const t = expectOk(await api.passwordToken('admin', ADMIN_PASSWORD))
      const userId = decode(t.body.access_token).user_id as string
      expectOk(await admin.delete(`/oauth/token/revoke/user/${userId}`))
      const r = await api.request('POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token }), BASIC_CF)
      assert.equal(r.status, 401)
    })

    it('issues client_credentials tokens for admin-created clients and rejects bad secrets', async () => {
      const admin = await api.admin()
      expectOk(
        await admin.post('/oauth/clients', {
          client_id: 'ci-bot',
          client_secret: 's3cret',
          authorities: ['cloud_controller.read', 'cloud_controller.write'],
          authorized_grant_types: ['client_credentials'],
        }),
        201,
      )
      const ok = expectOk(await api.request('POST', '/oauth/token', form({ grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: 's3cret' }), FORM))
      const claims = decode(ok.body.access_token)
      assert.equal(claims.client_id, 'ci-bot')
      assert.equal(claims.user_id, undefined)
      const bad = await api.request('POST', '/oauth/token', form({ grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: 'wrong' }), FORM)
      assert.equal(bad.status, 401)
      const cc = await api.as(ok.body.access_token).get('/v3/organizations')
      assert.equal(cc.status, 200)
    })

    it('answers CC requests without a token, with a tampered token and with an expired token', async () => {
      const none = await api.get('/v3/organizations')
      assert.equal(none.status, 401)
      assert.equal(none.body.errors[0].title, 'CF-NotAuthenticated')
      const t = expectOk(await api.passwordToken('admin', ADMIN_PASSWORD)).body.access_token as string
      const [h, p, s] = t.split('.')
      assert.ok(p)
      const forged = Buffer.from(JSON.stringify({ ...decode(t), user_name: 'mallory' })).toString('base64url')
      const tampered = await api.as(`${h}.${forged}.${s}`).get('/v3/organizations')
      assert.equal(tampered.status, 401)
      assert.deepEqual(tampered.body.errors[0], { code: 1000, title: 'CF-InvalidAuthToken', detail: 'Invalid Auth Token' })
      // A second server on the same store issues tokens that live two seconds.
      await server.stop()
      const shortLived = await startServer(store, { env: { CF_LEDGER_ACCESS_TOKEN_TTL: '2' }, dataDir: server.dataDir, databaseUrl: server.databaseUrl })
      try {
        const brief = expectOk(await new Api(shortLived.url).passwordToken('admin', ADMIN_PASSWORD)).body.access_token as string
        // Used while valid first, so the server has it among the tokens it verified: expiry still holds.
        expectOk(await new Api(shortLived.url).as(brief).get('/v3/organizations'))
        await new Promise((r) => setTimeout(r, 3100))
        const expired = await new Api(shortLived.url).as(brief).get('/v3/organizations')
        assert.equal(expired.status, 401)
        assert.equal(expired.body.errors[0].title, 'CF-InvalidAuthToken')
      } finally {
        await shortLived.stop()
      }
      server = await server.restart()
      api = new Api(server.url)
    })

    it('refuses CC writes to a token without cloud_controller.write (403 NotAuthorized)', async () => {
      const admin = await api.admin()
      expectOk(
        await admin.post('/oauth/clients', {
          client_id: 'reader',
          client_secret: 'x',
          authorities: ['cloud_controller.read'],
          authorized_grant_types: ['client_credentials'],
        }),
        201,
      )
      const t = expectOk(await api.request('POST', '/oauth/token', form({ grant_type: 'client_credentials', client_id: 'reader', client_secret: 'x' }), FORM))
      const r = await api.as(t.body.access_token).post('/v3/organizations', { name: 'nope' })
      assert.equal(r.status, 403)
      assert.equal(r.body.errors[0].title, 'CF-NotAuthorized')
    })

    it('serves the SCIM surface cf create-user uses', async () => {
      const admin = await api.admin()
      const created = expectOk(await admin.post('/Users', { userName: 'carol', password: 'pw', origin: '', emails: [{ value: 'carol@example.com', primary: true }] }), 201)
      const found = expectOk(await admin.get(`/Users?filter=${encodeURIComponent('userName eq "carol" and origin eq "uaa"')}`))
      assert.equal(found.body.resources[0].id, created.body.id)
      const dup = await admin.post('/Users', { userName: 'carol', password: 'pw' })
      assert.equal(dup.status, 409)
      const anon = await api.get('/Users')
      assert.equal(anon.status, 401)
      expectOk(await admin.delete(`/Users/${created.body.id}`))
      const gone = expectOk(await admin.get(`/Users?filter=${encodeURIComponent('userName eq "carol"')}`))
      assert.equal(gone.body.resources.length, 0)
    })

    it('serves the root, info and login documents cf reads', async () => {
      const root = expectOk(await api.get('/'))
      assert.match(root.body.links.cloud_controller_v3.meta.version, /^3\.\d+\.\d+$/)
      assert.equal(root.body.links.login.href, server.url)
      assert.equal(root.body.links.log_cache.href, server.url)
      const login = expectOk(await api.get('/login'))
      assert.deepEqual(login.body.prompts, { username: ['text', 'Email'], password: ['password', 'Password'] })
      expectOk(await api.get('/v3'))
      expectOk(await api.get('/v3/info'))
      expectOk(await api.get('/v2/info'))
    })
  })
}

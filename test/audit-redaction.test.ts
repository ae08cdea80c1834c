// Unit tests of the write-time redaction helpers (src/audit/redaction.ts): one per redacted field,
// with CC's exact placeholders. They need no server, so they run once whatever TEST_STORES says.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import {
  APP_CENSORED_FIELDS,
  censorKeys,
  dashboardClientMetadata,
  environmentVariableGroupEventMetadata,
  obfuscateUrlCredentials,
  PRIVATE_DATA_HIDDEN,
  redactAppEnvironmentVariablesRequest,
  redactAppRequest,
  redactBindingRequest,
  REDACTED,
  REDACTED_CREDENTIAL,
  redactManifest,
  redactManifestApplication,
  redactPackageRequest,
  redactProcessUpdateRequest,
  redactServiceInstanceMessage,
  redactServiceInstanceRequest,
  redactUserProvidedServiceInstanceEvent,
  redactUserProvidedServiceInstanceRequest,
  redactV2BrokerRequest,
  redactV3BrokerRequest,
  taskEventMetadata,
} from '../src/audit/redaction.ts'

describe('audit redaction helpers', () => {
  it('uses CC placeholders exactly', () => {
    assert.equal(PRIVATE_DATA_HIDDEN, '[PRIVATE DATA HIDDEN]')
    assert.equal(REDACTED, '[REDACTED]')
    assert.equal(REDACTED_CREDENTIAL, '***')
  })

  for (const field of APP_CENSORED_FIELDS) {
    it(`hides the app request's ${field}`, () => {
      const out = redactAppRequest({ name: 'web', [field]: { SECRET: 'value' } })
      assert.deepEqual(out, { name: 'web', [field]: PRIVATE_DATA_HIDDEN })
    })
  }

  it('hides a censored app field even when it is null or empty, and leaves absent ones absent', () => {
    assert.deepEqual(redactAppRequest({ command: null, environment_json: {} }), { command: PRIVATE_DATA_HIDDEN, environment_json: PRIVATE_DATA_HIDDEN })
    assert.deepEqual(redactAppRequest({ name: 'x', instances: 2 }), { name: 'x', instances: 2 })
  })

  it('obfuscates credentials in the v2 buildpack URL and the v3 lifecycle buildpack', () => {
    assert.deepEqual(redactAppRequest({ buildpack: 'https://user:pass@git.example.com/bp.git' }), { buildpack: 'https://***:***@git.example.com/bp.git' })
    const v3 = redactAppRequest({ lifecycle: { type: 'buildpack', data: { buildpack: 'https://tok@example.com/bp', stack: 'cflinuxfs4' } } })
    assert.deepEqual(v3, { lifecycle: { type: 'buildpack', data: { buildpack: 'https://***:***@example.com/bp', stack: 'cflinuxfs4' } } })
    // CC leaves the buildpacks array alone.
    const list = { lifecycle: { data: { buildpacks: ['https://u:p@example.com/bp'] } } }
    assert.deepEqual(redactAppRequest(list), list)
  })

  it('obfuscates only URLs with a user part, as UrlSecretObfuscator', () => {
    assert.equal(obfuscateUrlCredentials('https://user:secret@host:8443/p?q=1#f'), 'https://***:***@host:8443/p?q=1#f')
    assert.equal(obfuscateUrlCredentials('https://user@host/p'), 'https://***:***@host/p')
    assert.equal(obfuscateUrlCredentials('https://host/p@x'), 'https://host/p@x')
    assert.equal(obfuscateUrlCredentials('ruby_buildpack'), 'ruby_buildpack')
    assert.equal(obfuscateUrlCredentials('not a url @ all'), 'not a url @ all')
    assert.equal(obfuscateUrlCredentials(null), null)
  })

  it('renames var to environment_variables and hides it (PATCH /v3/apps/:guid/environment_variables)', () => {
    assert.deepEqual(redactAppEnvironmentVariablesRequest({ var: { PASSWORD: 'x' } }), { environment_variables: PRIVATE_DATA_HIDDEN })
  })

  it('records task events with the command always hidden and only name and memory kept', () => {
    assert.deepEqual(taskEventMetadata({ guid: 't1', name: 'migrate', memory_in_mb: 256 }), {
      task_guid: 't1',
      request: { name: 'migrate', memory_in_mb: 256, command: PRIVATE_DATA_HIDDEN },
    })
  })

  it('hides a process update command', () => {
    assert.deepEqual(redactProcessUpdateRequest({ command: 'rake secret', instances: 2 }), { command: PRIVATE_DATA_HIDDEN, instances: 2 })
  })

  it('hides managed service instance parameters', () => {
    assert.deepEqual(redactServiceInstanceRequest({ name: 'db', parameters: { pw: 'x' } }), { name: 'db', parameters: PRIVATE_DATA_HIDDEN })
  })

  it('redacts user-provided service instance credentials with [REDACTED]', () => {
    assert.deepEqual(redactUserProvidedServiceInstanceRequest({ name: 'ups', credentials: { uri: 'x' } }), { name: 'ups', credentials: REDACTED })
  })

  it('hides credentials and parameters in v3 service instance messages', () => {
    assert.deepEqual(redactServiceInstanceMessage({ credentials: { a: 1 }, parameters: { b: 2 }, name: 'n' }), {
      credentials: PRIVATE_DATA_HIDDEN,
      parameters: PRIVATE_DATA_HIDDEN,
      name: 'n',
    })
  })

  it('hides binding data but not binding parameters (as CC)', () => {
    assert.deepEqual(redactBindingRequest({ data: { x: 1 }, parameters: { y: 2 } }), { data: PRIVATE_DATA_HIDDEN, parameters: { y: 2 } })
  })

  it('redacts the v2 broker auth_password and hides the v3 broker credentials password', () => {
    assert.deepEqual(redactV2BrokerRequest({ name: 'b', auth_username: 'u', auth_password: 'p' }), { name: 'b', auth_username: 'u', auth_password: REDACTED })
    assert.deepEqual(redactV3BrokerRequest({ name: 'b', authentication: { type: 'basic', credentials: { username: 'u', password: 'p' } } }), {
      name: 'b',
      authentication: { type: 'basic', credentials: { username: 'u', password: PRIVATE_DATA_HIDDEN } },
    })
    assert.deepEqual(redactV3BrokerRequest({ name: 'b' }), { name: 'b' })
  })

  it('redacts a dashboard client secret', () => {
    assert.deepEqual(dashboardClientMetadata({ secret: 's3cr3t', redirect_uri: 'https://dash' }), { secret: REDACTED, redirect_uri: 'https://dash' })
  })

  it('replaces a docker package password with ***', () => {
    assert.deepEqual(redactPackageRequest({ type: 'docker', data: { image: 'i', username: 'u', password: 'p' } }), {
      type: 'docker',
      data: { image: 'i', username: 'u', password: REDACTED_CREDENTIAL },
    })
    assert.deepEqual(redactPackageRequest({ type: 'bits' }), { type: 'bits' })
  })

  it('hides manifest env and cnb-credentials per application, leaving commands and routes', () => {
    const app = { name: 'a', command: 'run --token=x', env: { K: 'v' }, 'cnb-credentials': { r: 'x' }, routes: [{ route: 'a.example.com' }] }
    assert.deepEqual(redactManifestApplication(app), { ...app, env: PRIVATE_DATA_HIDDEN, 'cnb-credentials': PRIVATE_DATA_HIDDEN })
    assert.deepEqual(redactManifest({ version: 1, applications: [app, { name: 'b' }] }), {
      version: 1,
      applications: [{ ...app, env: PRIVATE_DATA_HIDDEN, 'cnb-credentials': PRIVATE_DATA_HIDDEN }, { name: 'b' }],
    })
    // CC tests the values for truth (Ruby): an explicit null stays null.
    assert.deepEqual(redactManifestApplication({ name: 'a', env: null }), { name: 'a', env: null })
    assert.deepEqual(redactManifestApplication({ name: 'a', env: {} }), { name: 'a', env: PRIVATE_DATA_HIDDEN })
  })

  it('user-provided service instance events: credentials redacted, URL credentials obfuscated', () => {
    assert.deepEqual(
      redactUserProvidedServiceInstanceEvent({ name: 'u', credentials: { p: 'x' }, syslog_drain_url: 'syslog://u:p@h:514', route_service_url: 'https://h/r' }),
      { name: 'u', credentials: REDACTED, syslog_drain_url: `syslog://${REDACTED_CREDENTIAL}:${REDACTED_CREDENTIAL}@h:514`, route_service_url: 'https://h/r' },
    )
  })

  it('environment variable group events keep only the keys', () => {
    assert.deepEqual(environmentVariableGroupEventMetadata({ B: 'secret', A: 'x' }), { request: { var: PRIVATE_DATA_HIDDEN }, keys: ['A', 'B'] })
  })

  it('is the only place in src/ that writes a placeholder, as event-types.ts is for type strings and the recorders for appends', () => {
    const root = path.join(import.meta.dirname, '..', 'src')
    const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f))
    const offenders = (re: RegExp, home: (f: string) => boolean) =>
      files.filter((f) => !home(f) && fs.readFileSync(path.join(root, f), 'utf8').split('\n').some((line) => !/^\s*(\/\/|\*)/.test(line) && re.test(line)))
    assert.deepEqual(offenders(/['"]\[(PRIVATE DATA HIDDEN|REDACTED)|['"]\*\*\*['"]/, (f) => f === path.join('audit', 'redaction.ts')), [])
    assert.deepEqual(offenders(/['"]audit\.[a-z_]+\.[a-z_.-]+['"]/, (f) => f === path.join('audit', 'event-types.ts')), [])
    const recorder = (f: string) => f.startsWith(path.join('actions', 'events') + path.sep) || f === path.join('audit', 'ledger.ts')
    assert.deepEqual(offenders(/\brecordEvent\(/, recorder), [])
  })

  it('never mutates its input', () => {
    const input = { command: 'x', data: { password: 'p' }, lifecycle: { data: { buildpack: 'https://u:p@h' } } }
    const copy = structuredClone(input)
    redactAppRequest(input)
    redactPackageRequest(input)
    censorKeys(input, ['command'])
    assert.deepEqual(input, copy)
  })
})

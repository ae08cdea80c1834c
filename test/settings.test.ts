// The settings table and its parsers, without a server: every variable parses the same way, bad
// values stop the start with the setting's name, test-only switches are refused in production.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../src/config.ts'
import { loadLogConfig } from '../src/logs/config.ts'
import { boolean, duration, integer } from '../src/settings/parse.ts'
import { read } from '../src/settings/read.ts'
import { S, SETTINGS } from '../src/settings/table.ts'
import { withTable } from '../scripts/settings-doc.ts'

const root = path.resolve(import.meta.dirname, '..')

describe('settings', () => {
  it('reads booleans alike everywhere', () => {
    for (const [raw, v] of [['true', true], ['YES', true], ['on', true], ['1', true], ['false', false], ['no', false], ['Off', false], ['0', false]] as const) {
      assert.equal(boolean.parse(raw, 'X'), v, raw)
      assert.equal(loadConfig({}, { CF_LEDGER_TASK_NETWORK: raw }).taskNetwork, v)
      assert.equal(loadLogConfig({ CF_LEDGER_DRAIN_ALLOW_SELF: raw }).drainAllowSelf, v)
    }
    assert.throws(() => loadLogConfig({ CF_LEDGER_DRAIN_ALLOW_SELF: 'maybe' }), /CF_LEDGER_DRAIN_ALLOW_SELF must be true or false/)
  })

  it('refuses numbers out of range instead of clamping them', () => {
    const p = integer({ min: 1, max: 10 })
    assert.equal(p.parse('7', 'N'), 7)
    assert.throws(() => p.parse('0', 'N'), /N must be at least 1, got '0'/)
    assert.throws(() => p.parse('11', 'N'), /at most 10/)
    for (const bad of ['-1', '1.5', 'ten', '1e3', '']) assert.throws(() => p.parse(bad, 'N'), /N must be a whole number/, bad)
    assert.throws(() => loadLogConfig({ CF_LEDGER_LOG_CACHE_MAX_PER_SOURCE: '0' }), /CF_LEDGER_LOG_CACHE_MAX_PER_SOURCE must be at least 1/)
    assert.throws(() => loadConfig({ port: '70000' }), /--port \/ CF_LEDGER_PORT must be at most 65535/)
  })

  it('reads durations as a bare number in their unit or with a unit of their own', () => {
    const s = duration('s')
    assert.equal(s.parse('90', 'D'), 90)
    assert.equal(s.parse('15m', 'D'), 900)
    assert.equal(s.parse('2h', 'D'), 7200)
    assert.equal(s.parse('1d', 'D'), 86400)
    assert.equal(s.parse('3000ms', 'D'), 3)
    assert.throws(() => s.parse('1500ms', 'D'), /whole number of seconds/)
    assert.throws(() => s.parse('5 minutes', 'D'), /whole number of seconds/)
    assert.equal(duration('ms').parse('2s', 'D'), 2000)
    assert.equal(loadConfig({}, { CF_LEDGER_ACCESS_TOKEN_TTL: '20m' }).accessTokenTtlSeconds, 1200)
    assert.equal(loadConfig({}, { CF_LEDGER_TASK_CANCEL_GRACE_MS: '1s' }).taskCancelGraceMs, 1000)
  })

  it('lets a flag win over the variable and the variable over the default', () => {
    assert.equal(loadConfig({}, {}).port, 8080)
    assert.equal(loadConfig({}, { CF_LEDGER_PORT: '9000' }).port, 9000)
    assert.equal(loadConfig({ port: '0' }, { CF_LEDGER_PORT: '9000' }).port, 0)
    assert.equal(loadConfig({}, { CF_LEDGER_PUBLIC_URL: 'https://api.example.com/' }).publicUrl, 'https://api.example.com')
    assert.throws(() => loadConfig({}, { CF_LEDGER_PUBLIC_URL: 'https://api.example.com/v3' }), /must be an origin/)
    assert.throws(() => loadConfig({}, { DATABASE_URL: 'mysql://u:secret@h/db' }), (e: Error) => /postgres:\/\//.test(e.message) && !e.message.includes('secret'))
    assert.equal(loadConfig({}, { CF_LEDGER_PRUNE_AT: '7:05' }).audit.pruneAt, '07:05')
    assert.equal(loadConfig({}, { CF_LEDGER_PRUNE_AT: 'off' }).audit.pruneAt, undefined)
    assert.deepEqual(loadConfig({}, { CF_LEDGER_DRAIN_BLOCKED_RANGES: ' 10.0.0.0/8, ,fd00::/8' }).logs.drainBlockedRanges, ['10.0.0.0/8', 'fd00::/8'])
    assert.throws(() => loadConfig({}, { CF_LEDGER_DRAIN_BLOCKED_RANGES: '10.0.0.0' }), /CF_LEDGER_DRAIN_BLOCKED_RANGES/)
  })

  it('refuses test-only switches in production mode', () => {
    assert.equal(loadConfig({}, { CF_LEDGER_FAULT: 'prune-after-archive' }).audit.fault, 'prune-after-archive')
    assert.throws(() => loadConfig({}, { CF_LEDGER_FAULT: 'prune-after-archive', NODE_ENV: 'production' }), /CF_LEDGER_FAULT is a test-only setting/)
    assert.throws(() => loadConfig({}, { CF_LEDGER_DRAIN_SKIP_CERT_VERIFY: 'true', NODE_ENV: 'production' }), /test-only/)
    assert.equal(read(S.fault, { NODE_ENV: 'production' }), undefined)
    assert.throws(() => loadConfig({}, { CF_LEDGER_FAULT: 'explode' }), /prune-after-archive or prune-after-delete/)
  })

  it('has one entry per variable, each with a doc, and every default passes its own parser', () => {
    const names = SETTINGS.map((s) => s.env)
    assert.equal(new Set(names).size, names.length)
    for (const s of SETTINGS) {
      assert.ok(s.doc.length > 0 && !s.doc.includes('\n'), s.env)
      if (typeof s.default === 'number' || typeof s.default === 'boolean') assert.deepEqual(s.parser.parse(String(s.default), s.env), s.default, s.env)
    }
  })

  it('is what README.md shows', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
    assert.equal(readme, withTable(readme), 'README settings table is stale: run npm run settings-doc')
  })

  it('is the only place that reads CF_LEDGER_ variables', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (p.endsWith('.ts') && /(process\.)?env(\.|\[')(CF_LEDGER_|DATABASE_URL)/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(root, p))
      }
    }
    walk(path.join(root, 'src'))
    assert.deepEqual(offenders, [])
  })
})

// Fuzzing: schemathesis (pinned in test/fuzz/requirements.txt, installed into .venv-fuzz/ on
// demand) generates requests from /openapi.json, as admin and as an org auditor, for a bounded
// time per store. Any 5xx fails the test, and so does any error the server logs as unhandled.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, grant } from './support/client.ts'
import { startServer, stores, type TestServer } from './support/server.ts'
import { ensureVenv } from './support/venv.ts'

const root = path.resolve(import.meta.dirname, '..')
const schemathesis = path.join(root, '.venv-fuzz', 'bin', 'schemathesis')
/** Seconds of generation per caller and store; CI time stays bounded (docs/testing.md). */
const BUDGET_SECONDS = Number(process.env.CF_LEDGER_FUZZ_SECONDS ?? 20)

const ensureFuzzVenv = () => ensureVenv('.venv-fuzz', 'test/fuzz/requirements.txt')

function fuzz(url: string, token: string): Promise<{ code: number | null; output: string }> {
  const args = [
    'run',
    `${url}/openapi.json`,
    '--checks',
    'not_a_server_error',
    '--header',
    `Authorization: bearer ${token}`,
    '--max-time',
    String(BUDGET_SECONDS),
    '--max-examples',
    '25',
    '--workers',
    '2',
    '--generation-allow-x00',
    'true',
    '--seed',
    '1',
    '--suppress-health-check',
    'all',
    // A follow stream never ends by design (docs/export.md); its non-follow form is fuzzed with the rest.
    '--exclude-path',
    '/ledger/v1/events/stream',
  ]
  return new Promise((resolve) => {
    const child = spawn(schemathesis, args, { env: { ...process.env, SCHEMATHESIS_HOOKS: '' } })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    // A hard stop well past the budget, should schemathesis overrun it.
    const timer = setTimeout(() => child.kill('SIGKILL'), (BUDGET_SECONDS + 120) * 1000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

for (const store of stores()) {
  describe(`fuzzing /openapi.json [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let auditor: Api
    before(async () => {
      ensureFuzzVenv()
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const { orgGuid } = await createOrgAndSpace(admin, 'fuzz-org', 'fuzz-space')
      const user = await createUser(admin, 'fuzz-auditor')
      await grant(admin, 'organization_auditor', user.guid, { org: orgGuid })
      auditor = user.api
    })
    after(() => server?.stop())

    for (const who of ['admin', 'auditor'] as const) {
      it(`gets no 5xx from any generated request as ${who}`, { timeout: (BUDGET_SECONDS + 180) * 1000 }, async (t) => {
        const r = await fuzz(server.url, (who === 'admin' ? admin : auditor).token!)
        const findings = /={5,} (ERRORS|FAILURES) ={5,}[\s\S]*?(?==+ WARNINGS|=+ SUMMARY)/.exec(r.output)?.[0] ?? r.output.slice(-4000)
        // A 5xx is a "Server error" failure; a dropped connection or time-out a "Network Error".
        // schemathesis' own "Runtime Error"s (a schema it cannot generate from) are reported, not failed.
        assert.doesNotMatch(r.output, /Server error|Network Error|Undocumented|Failures:/, findings)
        if (r.code !== 0) t.diagnostic(`schemathesis exited ${r.code}:\n${findings}`)
        assert.match(r.output, /\d+ generated/, r.output.slice(-2000))
        assert.doesNotMatch(server.output(), /unhandled error/, server.output().slice(-3000))
      })
    }
  })
}

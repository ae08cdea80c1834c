// `cf-ledger verify --remote`: an auditor with a token and the log key checks the checkpoint,
// consistency with its last run (kept locally) and, as a global reader, every new entry; an
// entry edited in the database and a history rewritten and re-signed are both caught.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Api, createOrgAndSpace, createUser, grant } from './support/client.ts'
import { withStore } from './support/db.ts'
import { CLI, startServer, stores, type TestServer } from './support/server.ts'

const run = promisify(execFile)

for (const store of stores()) {
  describe(`verify --remote [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let auditor: Api
    let vkey: string
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-remote-'))

    const verify = async (api: Api, state: string, ...extra: string[]) => {
      const r = await run(CLI, ['verify', '--remote', server.url, '--key', vkey, '--state', path.join(dir, state), ...extra], {
        env: { ...process.env, CF_LEDGER_TOKEN: api.token!, CF_LEDGER_HOME: dir },
      }).catch((e: { code: number; stdout: string; stderr: string }) => e)
      return { code: 'code' in r && typeof r.code === 'number' ? r.code : 0, out: `${r.stdout}${r.stderr}` }
    }
    const covered = async () => {
      const total = (await admin.get('/v3/audit_events?per_page=1')).body.pagination.total_results as number
      for (let i = 0; i < 200; i++) {
        const r = await admin.get('/ledger/v1/log/checkpoint')
        if (r.status === 200 && Number(String(r.body).split('\n')[1]) >= total) return
        await new Promise((res) => setTimeout(res, 50))
      }
    }
    const edit = async (fn: (q: (text: string) => Promise<unknown>) => Promise<unknown>) => {
      await server.stop()
      await withStore(server, (q) => fn((t) => q(t)))
      server = await server.restart()
      admin = new Api(server.url, admin.token)
      auditor = new Api(server.url, auditor.token)
    }

    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS: '100' } })
      admin = await new Api(server.url).admin()
      const { orgGuid, spaceGuid } = await createOrgAndSpace(admin, 'acme', 'prod')
      const a = await createUser(admin, 'audrey', 'audrey-pw')
      await grant(admin, 'organization_user', a.guid, { org: orgGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      auditor = a.api
      vkey = (await admin.get('/ledger/v1/log/key')).body.trim()
      await covered()
    })
    after(async () => {
      await server?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('verifies, then checks only what is new against its last run', async () => {
      const first = await verify(auditor, 'auditor.json')
      assert.equal(first.code, 0, first.out)
      assert.match(first.out, /OK: checkpoint of size \d+ signed by the log key; first verification/)
      await admin.post('/v3/organizations', { name: 'more' })
      await covered()
      const second = await verify(auditor, 'auditor.json')
      assert.equal(second.code, 0, second.out)
      assert.match(second.out, /consistent with size \d+/)
      const entries = await verify(admin, 'admin.json', '--entries')
      assert.equal(entries.code, 0, entries.out)
      assert.match(entries.out, /\d+ new entries match their leaves/)
      assert.equal((await verify(auditor, 'x.json', '--entries')).code, 1, 'entries need a global reader')
      assert.equal((await verify(auditor, 'y.json', '--key', 'not-a-key')).code, 2)
    })

    it('catches an entry edited in the database', async () => {
      await edit((q) => q(`update events set actee_name = 'edited' where seq = 2`))
      const r = await verify(admin, 'fresh.json', '--entries')
      assert.equal(r.code, 1, r.out)
      assert.match(r.out, /FAILED: entry 1 does not hash to its leaf/)
    })

    it('catches a history rewritten and re-signed with the log key', async () => {
      await edit(async (q) => {
        await q('set session_replication_role = replica')
        for (const t of ['ledger_tiles', 'ledger_leaves', 'ledger_log_checkpoints']) await q(`delete from ${t}`)
        await q(`update ledger_log set size = 0, legacy_seq = 0, cursor_xid = '0', cursor_seq = 0, task_cursor_xid = '0', task_cursor_id = 0`)
      })
      await covered()
      const r = await verify(auditor, 'auditor.json')
      assert.equal(r.code, 1, r.out)
      assert.match(r.out, /is not consistent with checkpoint \d+ verified .*: the history was rewritten/)
    })
  })
}

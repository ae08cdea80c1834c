// Real tasks through the real executor into the log pipeline, on a server in its own process:
// what `cf logs` reads, the task output endpoint, the completion summary, and a task printing
// 1,000,000 lines kept whole in the store and in a healthy TCP drain (rsyslog).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import readline from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'
import { Rsyslog, rsyslogAvailable } from './support/logs-receivers.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const CLI_ZERO = '-6795364578871345152'
const decode = (e: Json) => Buffer.from(e.log.payload, 'base64').toString('utf8')

/** The CF CLI's rendering of a log envelope (util/ui/log_message.go), without the timestamp. */
const cliLine = (e: Json) => `[${e.tags.source_type}/${e.instance_id}] ${e.log.type} ${decode(e)}`

/** `cf logs APP --recent`: one descending read of 1000 LOG envelopes, shown oldest first. */
async function recent(api: Api, appGuid: string): Promise<Json[]> {
  const r = expectOk(await api.get(`/api/v1/read/${appGuid}?descending=true&envelope_types=LOG&limit=1000&start_time=${CLI_ZERO}`))
  return [...r.body.envelopes.batch].reverse()
}

for (const store of stores()) {
  describe(`task logs end to end [${store}]`, () => {
    let server: TestServer
    let dev: Api
    let appGuid: string

    before(async () => {
      server = await startServer(store)
      dev = await new Api(server.url).admin()
      const { spaceGuid } = await createOrgAndSpace(dev, 'logs-org', 'logs-space')
      appGuid = await pushApp(dev, spaceGuid, 'logs-app', { 'run.sh': { content: 'echo "out $1"; echo "err $1" >&2; exit "${2:-0}"\n', mode: 0o755 } })
    })
    after(() => server.stop())

    it('shows task output to cf logs --recent as [APP/TASK/<name>/0] lines, with CELL lines and the exit status', async () => {
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: './run.sh hello 3', name: 'migrate' }), 202)
      const done = await waitForTask(dev, t.body.guid)
      assert.equal(done.state, 'FAILED')
      const shown = (await recent(dev, appGuid)).filter((e) => e.tags.task_guid === t.body.guid).map(cliLine)
      assert.equal(shown[0], `[CELL/0] OUT Cell cf-ledger creating container for instance ${t.body.guid}`)
      assert.equal(shown[1], `[CELL/0] OUT Cell cf-ledger successfully created container for instance ${t.body.guid}`)
      assert.deepEqual(shown.slice(2, 4).sort(), ['[APP/TASK/migrate/0] ERR err hello', '[APP/TASK/migrate/0] OUT out hello'])
      assert.deepEqual(shown.slice(4), [
        '[APP/TASK/migrate/0] OUT Exit status 3',
        `[CELL/0] OUT Cell cf-ledger stopping instance ${t.body.guid}`,
        `[CELL/0] OUT Cell cf-ledger destroying container for instance ${t.body.guid}`,
        `[CELL/0] OUT Cell cf-ledger successfully destroyed container for instance ${t.body.guid}`,
      ])
      const out = await dev.get(`/v3/tasks/${t.body.guid}/output`)
      assert.deepEqual(String(out.body).trimEnd().split('\n').sort(), ['err hello', 'out hello'])
      const events = expectOk(await dev.get(`/v3/audit_events?types=audit.app.task.complete&target_guids=${appGuid}`)).body.resources
      const complete = events.find((e: Json) => e.data.task_guid === t.body.guid)
      assert.equal(complete.data.output.out_lines, 1)
      assert.equal(complete.data.output.err_lines, 1)
      assert.equal(complete.data.output.truncated, false)
    })

    it('serves the streaming walk cf logs does (latest, then ascending from latest − 1 s)', async () => {
      const latest = expectOk(await dev.get(`/api/v1/read/${appGuid}?descending=true&limit=1&start_time=${CLI_ZERO}`)).body.envelopes.batch
      assert.equal(latest.length, 1)
      const from = BigInt(latest[0].timestamp) - 1_000_000_000n
      const t = expectOk(await dev.post(`/v3/apps/${appGuid}/tasks`, { command: './run.sh streamed', name: 'walker' }), 202)
      await waitForTask(dev, t.body.guid)
      const seen: string[] = []
      let start = from
      for (let i = 0; i < 20; i++) {
        const batch = expectOk(await dev.get(`/api/v1/read/${appGuid}?envelope_types=LOG&start_time=${start}`)).body.envelopes.batch
        if (!batch.length) break
        for (const e of batch) if (e.tags.task_guid === t.body.guid) seen.push(cliLine(e))
        start = BigInt(batch.at(-1).timestamp) + 1n
      }
      assert.ok(seen.includes('[APP/TASK/walker/0] OUT out streamed'))
      assert.ok(seen.includes('[APP/TASK/walker/0] OUT Exit status 0'))
    })

    it(
      'keeps all 1,000,000 lines of a task in its durable output and in a healthy TCP drain, in order',
      { skip: !rsyslogAvailable() && 'rsyslogd is not installed', timeout: 600_000 },
      async () => {
        const rs = await Rsyslog.start()
        try {
          const { spaceGuid } = await createOrgAndSpace(dev, `million-${crypto.randomUUID().slice(0, 6)}`, 'dev')
          const app = await pushApp(dev, spaceGuid, 'million')
          const si = expectOk(
            await dev.post('/v3/service_instances', { type: 'user-provided', name: 'rsyslog', syslog_drain_url: `syslog://127.0.0.1:${rs.tcpPort}?disable-metadata=true`, relationships: { space: { data: { guid: spaceGuid } } } }),
            201,
          )
          expectOk(await dev.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: app } }, service_instance: { data: { guid: si.body.guid } } } }), 201)
          const started = Date.now()
          const t = expectOk(await dev.post(`/v3/apps/${app}/tasks`, { command: 'seq 1 1000000', name: 'million' }), 202)
          const done = await waitForTask(dev, t.body.guid, 300_000)
          const taskMs = Date.now() - started
          assert.equal(done.state, 'SUCCEEDED')
          // Durable output: exactly `seq 1 1000000`.
          const expected = spawnSync('seq', ['1', '1000000'], { maxBuffer: 64 * 1024 * 1024 }).stdout.toString()
          const res = await fetch(`${server.url}/v3/tasks/${t.body.guid}/output`, { headers: { authorization: `bearer ${dev.token}` } })
          const body = await res.text()
          assert.equal(body.length, expected.length)
          assert.ok(body === expected, 'stored output equals seq 1 1000000')
          const summary = expectOk(await dev.get(`/v3/audit_events?types=audit.app.task.complete&target_guids=${app}`)).body.resources[0].data.output
          assert.equal(summary.out_lines, 1_000_000)
          assert.equal(summary.sha256, crypto.createHash('sha256').update(expected).digest('hex'))
          assert.equal(summary.truncated, false)
          // The drain: every line, in order, then the exit status.
          await rs.waitFor((x) => x.endsWith(`[APP/TASK/MILLION/0] - - Exit status 0\n`) || x.includes('Exit status 0\n<14>1'), 300_000)
          let next = 1
          const rl = readline.createInterface({ input: fs.createReadStream(rs.out) })
          for await (const l of rl) {
            const i = l.indexOf('[APP/TASK/MILLION/0] - - ')
            if (i < 0) continue
            const payload = l.slice(i + 25)
            if (payload === 'Exit status 0') break
            assert.equal(payload, String(next), `drain line ${next}`)
            next++
          }
          assert.equal(next, 1_000_001)
          const drains = expectOk(await dev.get('/api/v1/drains')).body.drains.filter((d: Json) => d.app_guid === app)
          assert.equal(drains[0].dropped, 0)
          console.log(`1,000,000-line task: SUCCEEDED after ${taskMs} ms; drained ${drains[0].sent} envelopes`)
        } finally {
          await rs.stop()
        }
      },
    )
  })
}

// The collector against a real cf-ledger server acting as the foundation (docs/collect.md): events
// collected exactly once across collector restarts, a late event and a pruned range (gap event),
// a task's five answers and output through a real syslog drain, ambiguous attribution flagged;
// and the drain listener's framing over TCP and TLS, byte for byte.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import pino from 'pino'
import { startDrainListener } from '../src/collect/drain-listener.ts'
import { Attributor } from '../src/collect/attribution.ts'
import { CcClient } from '../src/collect/cc-client.ts'
import { LogCacheReader } from '../src/collect/log-cache.ts'
import { FoundationCollector } from '../src/collect/collector.ts'
import { loadLogConfig } from '../src/logs/config.ts'
import { OutputStore } from '../src/logs/output-store.ts'
import { openStore } from '../src/store/store.ts'
import { fingerprinter } from '../src/trail/fingerprint.ts'
import { sql } from 'kysely'
import type { SyslogMessage } from '../src/syslog/parse.ts'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { withStore } from './support/db.ts'
import { selfSignedCert } from './support/logs-receivers.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { ADMIN_PASSWORD, CLI, freshStore, startServer, stores, type TestServer } from './support/server.ts'
import { until } from './support/wait.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */

const FOUNDATION = 'src-lab'
const run = promisify(execFile)

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function allSourceEventGuids(api: Api): Promise<string[]> {
  const out: string[] = []
  let next: string | null = '/v3/audit_events?per_page=5000&order_by=created_at'
  while (next) {
    const page: any = expectOk(await api.get(next.replace(api.url, ''))).body
    out.push(...page.resources.map((e: any) => e.guid))
    next = page.pagination.next?.href ?? null
  }
  return out
}

/** An RFC 5424 line as Loggregator's syslog agent writes it for a task (no task_guid tag: real CF). */
function taskFrame(appGuid: string, name: string, at: Date, text: string): Buffer {
  const ts = at.toISOString().replace('Z', '+00:00')
  const msg = `<14>1 ${ts} org.space.app ${appGuid} [APP/TASK/${name}/0] - [tags@47450 app_id="${appGuid}" source_type="APP/TASK/${name}" instance_id="0"] ${text}\n`
  const body = Buffer.from(msg)
  return Buffer.concat([Buffer.from(`${body.length} `), body])
}

for (const store of stores()) {
  describe(`collect from a foundation [${store}]`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-collect-'))
    const configFile = path.join(dir, 'foundations.json')
    let source: TestServer
    let collector: TestServer
    let src: Api
    let col: Api
    let appGuid: string
    let spaceGuid: string
    let drainPort: number
    let firstTask: any

    const writeConfig = () =>
      fs.writeFileSync(configFile, JSON.stringify({ foundations: [{ name: FOUNDATION, api: source.url, client_id: 'ledger-collector', client_secret_env: 'COLLECT_SECRET' }] }))
    const startCollector = async () => {
      writeConfig()
      const env = {
        CF_LEDGER_COLLECT_CONFIG: configFile,
        COLLECT_SECRET: 'collector-secret',
        CF_LEDGER_COLLECT_INTERVAL_MS: '300',
        CF_LEDGER_COLLECT_OVERLAP_SECONDS: '5',
        CF_LEDGER_COLLECT_RESCAN_SECONDS: '2',
        CF_LEDGER_COLLECT_OUTPUT_GRACE_MS: '3000',
        CF_LEDGER_COLLECT_DRAIN_HOST: '127.0.0.1',
        CF_LEDGER_COLLECT_DRAIN_PORT: String(drainPort),
      }
      collector = collector ? await startServer(store, { env, dataDir: collector.dataDir, databaseUrl: collector.databaseUrl }) : await startServer(store, { env })
      col = await new Api(collector.url).admin()
    }
    const collectedGuids = async (): Promise<string[]> => {
      const out: string[] = []
      let next: string | null = `/ledger/v1/collected_events?foundations=${FOUNDATION}&per_page=5000`
      while (next) {
        const page: any = expectOk(await col.get(next.replace(col.url, ''))).body
        out.push(...page.resources.map((e: any) => e.guid))
        next = page.pagination.next?.href ?? null
      }
      return out
    }
    const trailOf = async (taskGuid: string) =>
      until(`the collected trail of ${taskGuid}`, async () => {
        const r = await col.get(`/ledger/v1/tasks/${taskGuid}/trail?output_lines=1000`)
        return r.status === 200 && r.body
      })

    before(async () => {
      drainPort = await freePort()
      // A fixed port, so the foundation keeps its API URL across its restarts.
      source = await startServer(store, { env: { CF_LEDGER_TASK_CANCEL_GRACE_MS: '200' }, port: await freePort() })
      src = await new Api(source.url).admin()
      // The collector's UAA client on the foundation: read-only admin, which also shows commands.
      expectOk(
        await src.post('/oauth/clients', { client_id: 'ledger-collector', client_secret: 'collector-secret', authorities: ['cloud_controller.admin_read_only'], authorized_grant_types: ['client_credentials'] }),
        201,
      )
      ;({ spaceGuid } = await createOrgAndSpace(src, 'acme', 'prod'))
      appGuid = await pushApp(src, spaceGuid, 'billing')
      await startCollector()
      // The foundation's app drains to the collector, as `cf create-user-provided-service -l syslog://…` would.
      const si = expectOk(await src.post('/v3/service_instances', { type: 'user-provided', name: 'ledger', syslog_drain_url: `syslog://127.0.0.1:${drainPort}`, relationships: { space: { data: { guid: spaceGuid } } } }), 201)
      expectOk(await src.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: appGuid } }, service_instance: { data: { guid: si.body.guid } } } }), 201)
    })
    after(async () => {
      await collector?.stop()
      await source?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it("keeps a foundation task's five answers and its whole output, provable in the collector's ledger", async () => {
      const created = expectOk(await src.post(`/v3/apps/${appGuid}/tasks`, { command: 'echo first line; echo to-stderr >&2; echo "héllo ] \\" done"', name: 'report' }), 202)
      const done = await waitForTask(src, created.body.guid)
      firstTask = done
      assert.equal(done.state, 'SUCCEEDED')
      const theirs = expectOk(await src.get(`/ledger/v1/tasks/${done.guid}/trail`)).body
      const trail = await trailOf(done.guid)
      assert.equal(trail.foundation, FOUNDATION)
      // who, what, where, how it ended, what it printed
      assert.equal(trail.actor.guid, theirs.actor.guid)
      assert.equal(trail.actor.username, theirs.events[0].actor.name)
      assert.equal(trail.command, 'echo first line; echo to-stderr >&2; echo "héllo ] \\" done"')
      assert.equal(trail.command_fingerprint.startsWith('hmac-sha256:'), true)
      assert.deepEqual(trail.target, theirs.target)
      assert.equal(trail.task.state, 'SUCCEEDED')
      assert.equal(trail.task.exit_status, 0)
      assert.equal(trail.task.failure_reason, null)
      assert.ok(Math.abs(Date.parse(trail.timing.finished_at) - Date.parse(theirs.timing.finished_at)) < 1000, `${trail.timing.finished_at} vs ${theirs.timing.finished_at}`)
      // Every line, in the foundation's order (stdout and stderr are two pipes: their interleaving is the source's).
      const own = (tail: any[]) => tail.filter((l) => ['first line', 'to-stderr', 'héllo ] " done'].includes(l.text)).map((l) => [l.stream, l.text])
      assert.deepEqual(own(trail.output.tail), own(theirs.output.tail))
      assert.equal(own(trail.output.tail).length, 3)
      assert.equal(trail.output.summary.out_lines, 2)
      assert.equal(trail.output.summary.err_lines, 1)
      // The same bytes as the foundation's own record of its output.
      assert.equal(trail.output.summary.sha256, theirs.output.summary.sha256)
      assert.deepEqual(trail.events.map((e: any) => e.type), ['audit.app.task.create', 'audit.app.task.complete'])
      assert.deepEqual(trail.events.map((e: any) => e.guid), theirs.events.map((e: any) => e.guid))
      assert.equal(trail.integrity.verified, true)
      // Search by foundation, and the run record becomes a leaf of the collector's log.
      const found = expectOk(await col.get(`/ledger/v1/tasks?foundations=${FOUNDATION}`)).body
      assert.ok(found.resources.some((r: any) => r.task.guid === done.guid && r.foundation === FOUNDATION))
      assert.equal(expectOk(await col.get('/ledger/v1/tasks?foundations=local')).body.resources.length, 0)
      await until('the run record and events as leaves', async () => {
        const t = expectOk(await col.get(`/ledger/v1/tasks/${done.guid}/trail`)).body
        return t.ledger.task_run_leaf_index !== null && t.events.every((e: any) => e.leaf_index !== null)
      })
      await until('the proof', async () => (await col.get(`/ledger/v1/tasks/${done.guid}/proof`)).status === 200)
    })

    it("reads the same run's output from the foundation's log-cache, attributed the same way", async () => {
      const appended: [string, string][] = []
      const output = {
        begin: (taskGuid: string) => ({ taskGuid, truncatedRecords: 0 }),
        append: (w: { taskGuid: string }, _k: number, _t: bigint, text: string) => appended.push([w.taskGuid, text]),
        finish: async () => undefined,
      }
      const attributor = new Attributor(output as never)
      const client = new CcClient({ name: FOUNDATION, api: source.url, clientId: 'ledger-collector', clientSecret: 'collector-secret', ca: undefined, skipSslValidation: false, logs: 'log-cache' })
      const reader = new LogCacheReader(client, attributor)
      attributor.register({ taskGuid: firstTask.guid, foundation: FOUNDATION, appGuid, name: 'report', createdAtMs: Date.parse(firstTask.created_at), endedAtMs: Date.parse(firstTask.updated_at) })
      await reader.poll(new Map([[appGuid, Date.parse(firstTask.created_at)]]))
      attributor.settle()
      client.close()
      assert.deepEqual([...appended.map(([, t]) => t)].sort(), ['Exit status 0', 'first line', 'héllo ] " done', 'to-stderr'])
      assert.ok(appended.every(([g]) => g === firstTask.guid))
      // A second poll starts after the newest envelope read: nothing twice.
      await reader.poll(new Map([[appGuid, Date.parse(firstTask.created_at)]]))
      attributor.settle()
      assert.equal(appended.length, 4)
    })

    it('`cf-ledger collect FILE` checks each foundation; `cf-ledger tasks --foundation` finds collected runs', async () => {
      const ready = await run(CLI, ['collect', configFile], { env: { ...process.env, COLLECT_SECRET: 'collector-secret' } })
      assert.match(ready.stdout, new RegExp(`${FOUNDATION}: ready`))
      assert.match(ready.stdout, /commands visible: yes/)
      assert.match(ready.stdout, new RegExp(`uaa: +${source.url}`))
      const wrong = await run(CLI, ['collect', configFile], { env: { ...process.env, COLLECT_SECRET: 'nope' } }).catch((e) => e)
      assert.equal(wrong.code, 1)
      assert.match(wrong.stderr, /client id or secret is wrong/)
      const home = fs.mkdtempSync(path.join(dir, 'home-'))
      const env = { ...process.env, CF_LEDGER_HOME: home }
      await run(CLI, ['login', '--api', collector.url, '-u', 'admin', '-p', ADMIN_PASSWORD], { env })
      const listed = JSON.parse((await run(CLI, ['tasks', '--foundation', FOUNDATION, '--json'], { env })).stdout)
      assert.ok(listed.length >= 1 && listed.every((r: any) => r.foundation === FOUNDATION))
      const shown = (await run(CLI, ['trail', listed[0].task.guid], { env })).stdout
      assert.match(shown, new RegExp(`foundation: +${FOUNDATION}`))
    })

    it('collects every event exactly once across a foundation outage and collector restarts, a late event, and names a pruned range as a gap', async () => {
      expectOk(await src.post('/v3/spaces', { name: 'staging', relationships: { organization: { data: { guid: (await src.get(`/v3/spaces/${spaceGuid}`)).body.relationships.organization.data.guid } } } }), 201)
      const want = await allSourceEventGuids(src)
      await until('every event', async () => (await collectedGuids()).length >= want.length, 30_000)
      let got = await collectedGuids()
      assert.deepEqual([...got].sort(), [...want].sort())

      // Foundation down while the collector runs: its passes fail and back off; once the
      // foundation is back, what it wrote meanwhile and after is collected, nothing twice.
      await source.stop()
      await new Promise((r) => setTimeout(r, 2000))
      source = await source.restart()
      src = await new Api(source.url).admin()
      const orgGuid = (await src.get(`/v3/spaces/${spaceGuid}`)).body.relationships.organization.data.guid
      expectOk(await src.post('/v3/spaces', { name: 'after-outage', relationships: { organization: { data: { guid: orgGuid } } } }), 201)
      const wantAfterOutage = await allSourceEventGuids(src)
      await until('the events written after the outage', async () => (await collectedGuids()).length >= wantAfterOutage.length, 60_000)
      got = await collectedGuids()
      assert.equal(got.length, new Set(got).size)
      assert.deepEqual([...got].sort(), [...wantAfterOutage].sort())

      // Collector down; the foundation gets an event committed late, dated an hour back.
      await collector.stop()
      const late = crypto.randomUUID()
      await withStore(source, (q) =>
        q(`insert into events (guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type, actee_name, metadata, space_guid, organization_guid)
           values ($1, now() - interval '1 hour', 'audit.app.update', 'late-actor', 'user', 'late', 'late', $2, 'app', 'billing', '{}', $3, '')`, [late, appGuid, spaceGuid]),
      )
      if (store === 'embedded') source = await source.restart()
      src = await new Api(source.url).admin()
      await startCollector()
      const want2 = await allSourceEventGuids(src)
      assert.ok(want2.includes(late))
      await until('the late event', async () => (await collectedGuids()).includes(late), 30_000)
      got = await collectedGuids()
      assert.equal(got.length, new Set(got).size)
      assert.deepEqual([...got].sort(), [...want2].sort())

      // The foundation prunes everything the collector had read (as after an outage longer than
      // its retention): the collector names the range it can no longer read. The collector is
      // down meanwhile: on a loaded machine the embedded foundation's stop, prune and restart
      // took long enough that its backoff (doubling per failed pass) outgrew the wait below.
      await collector.stop()
      await withStore(source, (q) => q(`delete from events`))
      if (store === 'embedded') source = await source.restart()
      src = await new Api(source.url).admin()
      await startCollector()
      const org = (await src.get(`/v3/spaces/${spaceGuid}`)).body.relationships.organization.data.guid
      expectOk(await src.post('/v3/spaces', { name: 'after-gap', relationships: { organization: { data: { guid: org } } } }), 201)
      const gap = await until('the gap event', async () => {
        const r = expectOk(await col.get('/v3/audit_events?types=audit.foundation.collect_gap')).body
        return r.resources[0]
      }, 60_000) // after a foundation restart, as the wait after the outage above
      assert.equal(gap.target.name, FOUNDATION)
      assert.ok(Date.parse(gap.data.missing_from) < Date.parse(gap.data.missing_to))
      assert.equal(expectOk(await col.get('/v3/audit_events?types=audit.foundation.collect_gap')).body.pagination.total_results, 1)
    })

    it('flags lines of two overlapping runs of one task name as ambiguous instead of guessing', async () => {
      const a = expectOk(await src.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 4', name: 'dup' }), 202).body
      const b = expectOk(await src.post(`/v3/apps/${appGuid}/tasks`, { command: 'sleep 4', name: 'dup' }), 202).body
      // Both runs known to the collector (its passes run every 300 ms), then a line as real CF sends it.
      await new Promise((r) => setTimeout(r, 1500))
      const sock = net.connect(drainPort, '127.0.0.1')
      await new Promise((r) => sock.once('connect', r))
      sock.end(taskFrame(appGuid, 'dup', new Date(), 'which run am I?'))
      await waitForTask(src, a.guid)
      await waitForTask(src, b.guid)
      for (const guid of [a.guid, b.guid]) {
        const t = await trailOf(guid)
        assert.equal(t.collection.unattributed_lines.ambiguous, 1, JSON.stringify(t.collection))
        assert.deepEqual(t.collection.overlapping_runs, [guid === a.guid ? b.guid : a.guid])
        assert.ok(!t.output.tail.some((l: any) => l.text === 'which run am I?'))
      }
    })
  })
}

describe('collect drain listener framing', () => {
  it('parses octet-counted RFC 5424 over TCP and TLS exactly, however the bytes are split', async () => {
    const cert = selfSignedCert(fs.mkdtempSync(path.join(os.tmpdir(), 'collect-cert-')))
    const got: SyslogMessage[] = []
    const listener = await startDrainListener({ host: '127.0.0.1', tcpPort: 0, tls: { port: 0, cert: cert.cert, key: cert.key } }, (m) => got.push(m), pino({ level: 'silent' }))
    const lines = [
      '<14>1 2026-12-01T10:00:00.123456+00:00 acme.prod.billing 5f0c [APP/TASK/report/0] - [tags@47450 app_id="5f0c" source_type="APP/TASK/report" x="a\\"b\\\\c\\]d"] héllo wörld ✓\n',
      '<11>1 2026-12-01T10:00:01+00:00 - 5f0c [APP/TASK/report/0] - - \n',
      `<14>1 2026-12-01T10:00:02.5Z h a p m [a@1 k="v"][b@2] ${'x'.repeat(70_000)}\n`,
    ]
    const stream = Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(`${Buffer.byteLength(l)} `), Buffer.from(l)])))
    const send = async (sock: net.Socket) => {
      // One byte, then a split inside a multi-byte character, then the rest.
      for (const [from, to] of [[0, 1], [1, 130], [130, stream.length]] as const) {
        sock.write(stream.subarray(from, to))
        await new Promise((r) => setTimeout(r, 20))
      }
      sock.end()
    }
    const tcp = net.connect(Number(listener.addresses.tcp!.split(':').at(-1)), '127.0.0.1').on('error', () => undefined)
    await new Promise((r) => tcp.once('connect', r))
    await send(tcp)
    const secure = tls.connect({ port: Number(listener.addresses.tls!.split(':').at(-1)), host: '127.0.0.1', ca: cert.cert }).on('error', () => undefined)
    await new Promise((r) => secure.once('secureConnect', r))
    await send(secure)
    await until('six messages', async () => got.length === 6, 5000)
    await listener.close()
    for (const i of [0, 3]) {
      assert.deepEqual(got[i], {
        priority: 14,
        timestampMicros: Date.parse('2026-12-01T10:00:00Z') * 1000 + 123456,
        hostname: 'acme.prod.billing',
        appName: '5f0c',
        procId: '[APP/TASK/report/0]',
        msgId: '-',
        structuredData: { 'tags@47450': { app_id: '5f0c', source_type: 'APP/TASK/report', x: 'a"b\\c]d' } },
        message: 'héllo wörld ✓',
      })
      assert.equal(got[i + 1]!.priority, 11)
      assert.deepEqual(got[i + 1]!.structuredData, {})
      assert.equal(got[i + 1]!.message, '')
      assert.equal(got[i + 2]!.timestampMicros, Date.parse('2026-12-01T10:00:02Z') * 1000 + 500000)
      assert.deepEqual(got[i + 2]!.structuredData, { 'a@1': { k: 'v' }, 'b@2': {} })
      assert.equal(got[i + 2]!.message.length, 70_000)
    }
    assert.equal(listener.stats.badMessages, 0)
  })

  it('closes a connection that is not octet counted, and skips a message that is not RFC 5424', async () => {
    const got: SyslogMessage[] = []
    const listener = await startDrainListener({ host: '127.0.0.1', tcpPort: 0, tls: undefined }, (m) => got.push(m), pino({ level: 'silent' }))
    const port = Number(listener.addresses.tcp!.split(':').at(-1))
    const bad = net.connect(port, '127.0.0.1').on('error', () => undefined)
    const closed = new Promise((r) => bad.once('close', r))
    bad.write('hello there\n')
    await closed
    const ok = net.connect(port, '127.0.0.1').on('error', () => undefined)
    await new Promise((r) => ok.once('connect', r))
    ok.end('5 nope!13 <14>1 - - - -')
    await until('the counters', async () => listener.stats.messages === 2, 5000)
    await listener.close()
    assert.equal(listener.stats.badFrames, 1)
    assert.equal(listener.stats.badMessages, 2)
    assert.equal(got.length, 0)
  })

  it('takes HTTPS drain posts: one message (https://) or several ending in LF (https-batch://); other methods get 405', async () => {
    const cert = selfSignedCert(fs.mkdtempSync(path.join(os.tmpdir(), 'collect-cert-')))
    const got: SyslogMessage[] = []
    const listener = await startDrainListener({ host: '127.0.0.1', tcpPort: undefined, tls: undefined, https: { port: 0, ...cert } }, (m) => got.push(m), pino({ level: 'silent' }))
    const port = Number(listener.addresses.https!.split(':').at(-1))
    const post = (method: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method, path: '/drain', ca: cert.cert, headers: { 'content-type': 'text/plain' } }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        req.end(body)
      })
    const line = (i: number, text: string) => `<14>1 2026-12-01T10:00:0${i}.000001+00:00 acme.prod.billing 5f0c [APP/TASK/report/0] - [tags@47450 source_type="APP/TASK/report"] ${text}\n`
    assert.equal(await post('POST', line(0, 'alone')), 200)
    assert.equal(await post('POST', line(1, 'first') + line(2, 'two\nparts <14> not a header') + line(3, 'ünïcode ✓')), 200)
    assert.equal(await post('GET', ''), 405)
    await listener.close()
    assert.deepEqual(
      got.map((m) => [(m.timestampMicros ?? 0) % 10_000_000, m.message]),
      [[1, 'alone'], [1_000_001, 'first'], [2_000_001, 'two\nparts <14> not a header'], [3_000_001, 'ünïcode ✓']],
    )
    assert.equal(got[0]!.structuredData['tags@47450']!.source_type, 'APP/TASK/report')
    assert.equal(listener.stats.badMessages, 0)
  })
})

describe('collect attribution', () => {
  it('gives a line to the one run of its name and time, and names both runs when two overlap', async () => {
    const appended: string[] = []
    const output = {
      begin: (taskGuid: string) => ({ taskGuid, truncatedRecords: 0 }),
      append: (w: { taskGuid: string }, _k: number, _t: bigint, text: string) => appended.push(`${w.taskGuid}:${text}`),
      finish: async () => undefined,
    }
    const a = new Attributor(output as never)
    const t0 = Date.parse('2026-12-01T10:00:00Z')
    const msg = (at: number, text: string, name = 'dup'): SyslogMessage => ({
      priority: 14,
      timestampMicros: at * 1000,
      hostname: '-',
      appName: 'app-1',
      procId: `[APP/TASK/${name}/0]`,
      msgId: '-',
      structuredData: { 'tags@47450': { app_id: 'app-1', source_type: `APP/TASK/${name}` } },
      message: text,
    })
    a.line(msg(t0 + 500, 'early'))
    a.register({ taskGuid: 'r1', foundation: 'f', appGuid: 'app-1', name: 'dup', createdAtMs: t0, endedAtMs: t0 + 10_000 })
    a.register({ taskGuid: 'r2', foundation: 'f', appGuid: 'app-1', name: 'dup', createdAtMs: t0 + 20_000, endedAtMs: null })
    a.settle()
    a.line(msg(t0 + 25_000, 'second run'))
    a.register({ taskGuid: 'r3', foundation: 'f', appGuid: 'app-1', name: 'dup', createdAtMs: t0 + 24_000, endedAtMs: null })
    a.line(msg(t0 + 26_000, 'both'))
    a.line(msg(t0 + 26_000, 'other name', 'cron'))
    a.settle()
    assert.deepEqual(appended, ['r1:early', 'r2:second run'])
    const aside = a.takeAside()
    assert.deepEqual(aside.map((x) => [x.reason, x.candidates, x.line]), [['ambiguous', ['r2', 'r3'], 'both']])
    assert.equal(a.stats.attributed, 2)
  })
})

// CC's own response shapes (cloud_controller_ng request specs and API docs, as in
// /v3/audit_events and /v3/tasks/:guid), served by a recorded foundation: the seed's task event
// (../shared/seeds: its v2 record as v3 renders it, same guids, actor and request), an event with
// null space and org, the task FAILED with Diego's prefixed failure reason, a 429 first.
describe('collect against recorded CC responses', () => {
  const APP = '66b21180-1b32-43ba-a239-0f8bff9d4330'
  const TASK = 'b825a12d-6c0a-4b07-a454-23642638d6fc'
  const SPACE = 'f654f75d-51d9-43d5-b4fd-4db9f395490b'
  const ORG = '64fcd439-7345-4d79-bcd9-1c2cb2f5a0df'
  let base = ''
  const recorded: Record<string, (q: URLSearchParams) => unknown> = {
    '/': () => ({ links: { self: { href: base }, uaa: { href: `${base}/uaa` }, login: { href: `${base}/login` }, log_cache: { href: `${base}/logcache` } } }),
    '/v3/audit_events': (q) => ({
      pagination: { total_results: 2, total_pages: 1, first: { href: `${base}/v3/audit_events?page=1` }, last: { href: `${base}/v3/audit_events?page=1` }, next: null, previous: null },
      resources: (q.get('per_page') === '1' ? [0] : [0, 1]).map((i) =>
        i === 0
          ? {
              guid: '3fb2b2ad-48f9-4c19-b12b-ff714c8c3397', created_at: '2021-03-04T18:27:58Z', updated_at: '2021-03-04T18:27:58Z', type: 'audit.app.task.create',
              actor: { guid: '265b747a-e0f9-4448-93f4-ac2284d4811f', type: 'user', name: 'system_services' },
              target: { guid: APP, type: 'app', name: 'mytask' },
              data: { task_guid: TASK, request: { name: 'mytask', memory_in_mb: 1024, command: '[PRIVATE DATA HIDDEN]' } },
              space: { guid: SPACE }, organization: { guid: ORG },
              links: { self: { href: `${base}/v3/audit_events/3fb2b2ad-48f9-4c19-b12b-ff714c8c3397` } },
            }
          : {
              guid: 'b7e1a3c2-5f4d-4e8b-9c1a-2d3e4f5a6b7c', created_at: '2021-03-04T18:28:01Z', updated_at: '2021-03-04T18:28:01Z', type: 'blob.remove_orphan',
              actor: { guid: 'system', type: 'system', name: 'system' }, target: { guid: 'dir/key', type: 'blob', name: '' }, data: {}, space: null, organization: null,
              links: { self: { href: `${base}/v3/audit_events/b7e1a3c2-5f4d-4e8b-9c1a-2d3e4f5a6b7c` } },
            },
      ),
    }),
    '/v3/tasks': () => ({ pagination: { total_results: 0, total_pages: 1, next: null }, resources: [] }),
    [`/v3/tasks/${TASK}`]: () => ({
      guid: TASK, sequence_id: 1, name: 'mytask', command: 'rake db:migrate', state: 'FAILED', memory_in_mb: 1024, disk_in_mb: 1024, log_rate_limit_in_bytes_per_second: -1,
      result: { failure_reason: 'APP/TASK/mytask: Exited with status 1' }, droplet_guid: '740ebd2b-162b-469a-bd72-3edb96fabd9a',
      relationships: { app: { data: { guid: APP } } }, metadata: { labels: {}, annotations: {} },
      created_at: '2021-03-04T18:27:58Z', updated_at: '2021-03-04T18:28:05Z',
      links: { self: { href: `${base}/v3/tasks/${TASK}` } },
    }),
    [`/v3/apps/${APP}`]: () => ({ guid: APP, name: 'mytask', relationships: { space: { data: { guid: SPACE } } } }),
    [`/v3/spaces/${SPACE}`]: () => ({ guid: SPACE, name: 'dev', relationships: { organization: { data: { guid: ORG } } } }),
    [`/v3/organizations/${ORG}`]: () => ({ guid: ORG, name: 'acme' }),
  }

  it('names a gap when the foundation kept nothing at the check and an event arrived before the read', async () => {
    const systemEvent = (guid: string, at: string) => ({
      guid, created_at: at, updated_at: at, type: 'blob.remove_orphan', actor: { guid: 'system', type: 'system', name: 'system' },
      target: { guid: 'dir/key', type: 'blob', name: '' }, data: {}, space: null, organization: null, links: { self: { href: `${base}/v3/audit_events/${guid}` } },
    })
    const page = (resources: unknown[]) => ({ pagination: { total_results: resources.length, total_pages: 1, next: null }, resources })
    // Phase 1 the foundation holds A; then it pruned everything, and B lands between the
    // collector's look at the oldest kept event (none) and its read of the new ones.
    let phase = 1
    const A = systemEvent('0b9d4a4e-6f0e-4c55-9a43-8d8f1b0c0a01', '2021-03-04T18:27:58Z')
    const B = systemEvent('0b9d4a4e-6f0e-4c55-9a43-8d8f1b0c0a02', '2021-03-09T09:00:00Z')
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, base)
      res.setHeader('content-type', 'application/json')
      if (u.pathname === '/uaa/oauth/token') return res.end(JSON.stringify({ access_token: 'recorded', token_type: 'bearer', expires_in: 599 }))
      if (u.pathname === '/v3/audit_events') return res.end(JSON.stringify(page(phase === 1 ? [A] : u.searchParams.get('per_page') === '1' ? [] : [B])))
      if (u.pathname === '/v3/tasks') return res.end(JSON.stringify(page([])))
      if (u.pathname === '/') return res.end(JSON.stringify(recorded['/']!(u.searchParams)))
      res.writeHead(404)
      res.end(JSON.stringify({ errors: [{ code: 10010, title: 'CF-ResourceNotFound', detail: 'not found' }] }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
    const fresh = await freshStore(stores()[0]!)
    const store = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir }, pino({ level: 'silent' }))
    try {
      const output = new OutputStore(store.db, loadLogConfig({}), pino({ level: 'silent' }))
      const foundation = { name: 'pruned', api: base, clientId: 'c', clientSecret: 's', ca: undefined, skipSslValidation: false, logs: 'drain' as const }
      const collector = new FoundationCollector(store.db, foundation, { overlapSeconds: 120, rescanSeconds: 3600, outputGraceMs: 0 }, new Attributor(output), fingerprinter(Buffer.alloc(32, 1)))
      assert.equal((await collector.pass()).eventsAdded, 1)
      phase = 2
      const second = await collector.pass()
      assert.equal(second.eventsAdded, 1)
      assert.deepEqual(second.gap, { from: '2021-03-04T18:27:58.000Z', to: '2021-03-09T09:00:00.000Z' })
      const gaps = (await sql<{ metadata: any }>`select metadata from events where type = 'audit.foundation.collect_gap'`.execute(store.db)).rows
      assert.equal(gaps.length, 1)
      assert.equal(gaps[0]!.metadata.missing_to, '2021-03-09T09:00:00.000Z')
      assert.equal((await collector.pass()).gap, null, 'named once')
      collector.client.close()
    } finally {
      await store.close()
      server.close()
    }
  })

  it('keeps CC shapes exactly, follows a FAILED task to its record and waits out a 429', async () => {
    let throttle = 1
    const server = http.createServer((req, res) => {
      const u = new URL(req.url!, base)
      if (u.pathname === '/uaa/oauth/token') {
        res.setHeader('content-type', 'application/json')
        return res.end(JSON.stringify({ access_token: 'recorded', token_type: 'bearer', expires_in: 599 }))
      }
      if (u.pathname === '/v3/audit_events' && throttle-- > 0) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' })
        return res.end(JSON.stringify({ errors: [{ code: 10013, title: 'CF-RateLimitExceeded', detail: 'Rate Limit Exceeded' }] }))
      }
      const answer = recorded[u.pathname]
      res.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer ? answer(u.searchParams) : { errors: [{ code: 10010, title: 'CF-ResourceNotFound', detail: 'not found' }] }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
    const kind = stores()[0]!
    const fresh = await freshStore(kind)
    const store = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir }, pino({ level: 'silent' }))
    try {
      const output = new OutputStore(store.db, loadLogConfig({}), pino({ level: 'silent' }))
      const foundation = { name: 'cc-docs', api: base, clientId: 'c', clientSecret: 's', ca: undefined, skipSslValidation: false, logs: 'drain' as const }
      const collector = new FoundationCollector(store.db, foundation, { overlapSeconds: 120, rescanSeconds: 3600, outputGraceMs: 0 }, new Attributor(output), fingerprinter(Buffer.alloc(32, 1)))
      const t0 = Date.now()
      const first = await collector.pass()
      assert.equal(first.eventsAdded, 2)
      assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After')
      assert.equal(collector.client.stats.throttled, 1)
      assert.equal((await collector.pass()).tasksRecorded, 1) // seen FAILED in the first pass, recorded in the next
      assert.equal((await collector.pass()).eventsAdded, 0)
      const events = (await sql<{ resource: any; space_guid: string }>`select resource, space_guid from collected_events order by id`.execute(store.db)).rows
      assert.deepEqual(events[0]!.resource, (recorded['/v3/audit_events']!(new URLSearchParams()) as any).resources[0])
      assert.equal(events[1]!.resource.space, null)
      assert.equal(events[1]!.space_guid, '')
      const task = (await sql<any>`select * from tasks where guid = ${TASK}`.execute(store.db)).rows[0]
      assert.equal(task.foundation, 'cc-docs')
      assert.equal(task.state, 'FAILED')
      assert.equal(task.failure_reason, 'APP/TASK/mytask: Exited with status 1')
      assert.equal(task.command, 'rake db:migrate')
      assert.equal(task.exit_status, null)
      assert.equal(new Date(task.finished_at).toISOString(), '2021-03-04T18:28:05.000Z')
      assert.deepEqual(task.target_names, { app: 'mytask', space: 'dev', organization: 'acme' })
      assert.equal(task.created_by.name, 'system_services')
      assert.equal(task.memory_in_mb, 1024)
      const run = (await sql<{ entry: Uint8Array }>`select entry from ledger_task_runs where task_guid = ${TASK}`.execute(store.db)).rows[0]!
      const entry = JSON.parse(Buffer.from(run.entry).toString('utf8'))
      assert.equal(entry.kind, 'cf-ledger/collected-task-run@v1')
      assert.deepEqual(entry.completion.completed_at_from, 'updated_at')
      assert.deepEqual(entry.events.map((e: any) => e.type), ['audit.app.task.create'])
      collector.client.close()
    } finally {
      await store.close()
      server.close()
    }
  })
})

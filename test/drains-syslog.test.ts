// Syslog drains against real receivers: rsyslog (TCP and TLS), a raw TCP capture and an HTTPS
// receiver. Frames are compared byte for byte with the syslog agent's RFC 5424 output.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { expectOk, type Api } from './support/client.ts'
import { stores } from './support/server.ts'
import { contextOf, createApp, decodePayload, line, startHarness, type FakeApp, type Harness } from './support/logs-harness.ts'
import { HttpsReceiver, RawTcpReceiver, Rsyslog, freePort, rsyslogAvailable } from './support/logs-receivers.ts'
import pino from 'pino'
import { loadLogConfig } from '../src/logs/config.ts'
import { DrainPolicy } from '../src/logs/drains/policy.ts'
import { Drain } from '../src/logs/drains/drain.ts'
import type { Envelope } from '../src/logs/envelope.ts'
import { until } from './support/wait.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** Go's `2006-01-02T15:04:05.999999-07:00` in UTC, written out independently of the server. */
function goTimestamp(ns: bigint): string {
  const micros = ns / 1000n
  const base = new Date(Number(micros / 1_000_000n) * 1000).toISOString().slice(0, 19)
  const frac = Number(micros % 1_000_000n)
  return `${base}${frac ? '.' + String(frac).padStart(6, '0').replace(/0+$/, '') : ''}+00:00`
}

const sanitize = (s: string) => s.replace(/\s+/g, '-').replace(/[^-a-zA-Z0-9]+/g, '').replace(/-+$/, '').slice(0, 63)

/** The agent's message for a log envelope as log-cache returned it. */
function expectedMessage(e: Json): string {
  const t = e.tags as Record<string, string>
  const sd = Object.keys(t)
    .sort()
    .map((k) => `${k}="${t[k]!.replace(/["\\\]]/g, (c) => '\\' + c)}"`)
    .join(' ')
  const procid = `[${t.source_type!.toUpperCase().replace(/ /g, '-')}/${e.instance_id}]`
  const host = `${sanitize(t.organization_name!)}.${sanitize(t.space_name!)}.${sanitize(t.app_name!)}`
  let msg = decodePayload(e).replace(/\u0000/g, '')
  if (!msg.endsWith('\n')) msg += '\n'
  return `<${e.log.type === 'ERR' ? 11 : 14}>1 ${goTimestamp(BigInt(e.timestamp))} ${host} ${e.source_id} ${procid} - [tags@47450 ${sd}] ${msg}`
}

async function bindDrain(admin: Api, app: FakeApp, url: string, credentials: Record<string, string> = {}): Promise<{ si: string; binding: string }> {
  const si = expectOk(
    await admin.post('/v3/service_instances', { type: 'user-provided', name: `drain-${Math.random().toString(36).slice(2, 8)}`, syslog_drain_url: url, credentials, relationships: { space: { data: { guid: app.spaceGuid } } } }),
    201,
  )
  const b = expectOk(await admin.post('/v3/service_credential_bindings', { type: 'app', relationships: { app: { data: { guid: app.appGuid } }, service_instance: { data: { guid: si.body.guid } } } }), 201)
  return { si: si.body.guid, binding: b.body.guid }
}

async function envelopes(h: Harness, appGuid: string, newest = false): Promise<Json[]> {
  return expectOk(await h.admin.get(`/api/v1/read/${appGuid}?limit=1000${newest ? '&descending=true' : ''}`)).body.envelopes.batch
}

async function drainStats(h: Harness, binding: string): Promise<Json> {
  return expectOk(await h.admin.get('/api/v1/drains')).body.drains.find((d: Json) => d.binding_guid === binding)
}

const SPECIAL = ['plain line', 'say "hi" [x] \\ done', 'nul\u0000byte', 'ünïcødé ✓', 'already newline\n']

for (const store of stores()) {
  describe(`syslog drains [${store}]`, { skip: !rsyslogAvailable() && 'rsyslogd with rsyslog-gnutls is not installed' }, () => {
    let h: Harness
    let rs: Rsyslog

    before(async () => {
      ;[h, rs] = await Promise.all([
        startHarness(store, { CF_LEDGER_DRAIN_BUFFER_LINES: '1000', CF_LEDGER_DRAIN_MAX_BACKOFF_MS: '300', CF_LEDGER_DRAIN_BATCH_MS: '300' }),
        Rsyslog.start(),
      ])
    })
    after(() => Promise.all([h.close(), rs.stop()]))

    it('writes RFC 5424 frames byte for byte as the syslog agent does, octet-counted over TCP', async () => {
      const raw = await RawTcpReceiver.start()
      try {
        const app = await createApp(h.admin, 'My "App"]')
        await bindDrain(h.admin, app, `syslog://127.0.0.1:${raw.port}`)
        const ctx = contextOf(app, { name: 'migrate db' })
        h.pipeline.sink.taskStarting(ctx)
        h.pipeline.sink.taskOutput(ctx, line('Migrating...'))
        for (const t of SPECIAL) h.pipeline.sink.taskOutput(ctx, line(t, 'ERR'))
        await h.pipeline.sink.taskExited(ctx, { exitStatus: 0, oomKilled: false })
        const envs = await envelopes(h, app.appGuid)
        assert.equal(envs.length, 2 + 1 + SPECIAL.length + 4)
        const expected = envs.map((e) => {
          const m = expectedMessage(e)
          return `${Buffer.byteLength(m)} ${m}`
        })
        const want = Buffer.from(expected.join(''))
        await until('the frames', () => raw.data.length >= want.length, 20_000)
        assert.equal(raw.data.toString('utf8'), want.toString('utf8'))
        // One frame written out literally, to pin the format itself.
        const e = envs[2]!
        const t = e.tags
        const literal =
          `<14>1 ${goTimestamp(BigInt(e.timestamp))} ${app.orgName}.dev.My-App ${app.appGuid} [APP/TASK/MIGRATE-DB/0] - ` +
          `[tags@47450 app_id="${app.appGuid}" app_name="My \\"App\\"\\]" instance_id="0" organization_id="${app.orgGuid}" ` +
          `organization_name="${app.orgName}" source_id="${app.appGuid}" source_type="APP/TASK/migrate db" space_id="${app.spaceGuid}" ` +
          `space_name="dev" task_guid="${t.task_guid}"] Migrating...\n`
        assert.equal(expected[2], `${Buffer.byteLength(literal)} ${literal}`)
        assert.match(goTimestamp(BigInt(e.timestamp)), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$/)
      } finally {
        await raw.close()
      }
    })

    it('delivers the same messages to rsyslog over syslog:// (TCP) and syslog-tls://', async () => {
      const app = await createApp(h.admin, 'rsys-app')
      await bindDrain(h.admin, app, `syslog://127.0.0.1:${rs.tcpPort}`)
      await bindDrain(h.admin, app, `syslog-tls://127.0.0.1:${rs.tlsPort}`, { ca: rs.cert.cert })
      const ctx = contextOf(app, { name: 'both' })
      h.pipeline.sink.taskStarting(ctx)
      for (const t of SPECIAL) h.pipeline.sink.taskOutput(ctx, line(t))
      const envs = (await envelopes(h, app.appGuid)).filter((e) => e.tags.task_guid === ctx.taskGuid)
      const msgs = envs.map(expectedMessage)
      const text = await rs.waitFor((x) => msgs.every((m) => x.split(m).length - 1 >= 2))
      for (const m of msgs) assert.equal(text.split(m).length - 1, 2, `received twice (TCP and TLS): ${m}`)
    })

    it('posts one message per request to https:// drains and batches https-batch://', async () => {
      const recv = await HttpsReceiver.start(rs.cert)
      try {
        const app = await createApp(h.admin, 'https-app')
        await bindDrain(h.admin, app, `https://user:secret@127.0.0.1:${recv.port}/single?token=1`, { ca: rs.cert.cert })
        await bindDrain(h.admin, app, `https-batch://127.0.0.1:${recv.port}/batch`, { ca: rs.cert.cert })
        const ctx = contextOf(app, { name: 'web' })
        h.pipeline.sink.taskStarting(ctx)
        for (let i = 0; i < 20; i++) h.pipeline.sink.taskOutput(ctx, line(`https line ${i}`))
        const msgs = (await envelopes(h, app.appGuid)).map(expectedMessage)
        assert.equal(msgs.length, 22)
        await until('all posts', () => recv.posts.filter((p) => p.path === '/single?token=1').length >= 22 && recv.posts.filter((p) => p.path === '/batch').map((p) => p.body).join('').length >= msgs.join('').length, 20_000)
        const single = recv.posts.filter((p) => p.path === '/single?token=1')
        assert.deepEqual(single.map((p) => p.body), msgs)
        assert.equal(single[0]!.contentType, 'text/plain')
        assert.equal(single[0]!.authorization, `Basic ${Buffer.from('user:secret').toString('base64')}`)
        const batches = recv.posts.filter((p) => p.path === '/batch')
        assert.ok(batches.length < 22, `${batches.length} batch posts`)
        assert.equal(batches.map((p) => p.body).join(''), msgs.join(''))
      } finally {
        await recv.close()
      }
    })

    it('keeps buffered lines through a receiver outage and delivers all of them, in order, when it returns', async () => {
      const app = await createApp(h.admin, 'outage-app')
      const { binding } = await bindDrain(h.admin, app, `syslog://127.0.0.1:${rs.tcpPort}`)
      const ctx = contextOf(app, { name: 'outage' })
      h.pipeline.sink.taskStarting(ctx)
      h.pipeline.sink.taskOutput(ctx, line('before outage'))
      await rs.waitFor((x) => x.includes(`] before outage\n`))
      await rs.pause()
      await new Promise((r) => setTimeout(r, 200))
      const lines = Array.from({ length: 800 }, (_, i) => `outage ${app.appGuid} ${i}`)
      for (const t of lines) h.pipeline.sink.taskOutput(ctx, line(t))
      await until('a failed connection attempt', async () => (await drainStats(h, binding)).last_error, 20_000)
      assert.equal((await drainStats(h, binding)).dropped, 0)
      await rs.resume()
      const text = await rs.waitFor((x) => x.includes(`] ${lines.at(-1)}\n`))
      const got = text.split('\n').filter((l) => l.includes(`outage ${app.appGuid} `)).map((l) => l.slice(l.indexOf('] outage ') + 2))
      assert.deepEqual(got, lines)
      const stats = await drainStats(h, binding)
      assert.equal(stats.dropped, 0)
      assert.equal(stats.buffered_lines, 0)
    })

    it('drops the oldest lines past the buffer, counts them exactly and reports them in the app stream', async () => {
      const app = await createApp(h.admin, 'drop-app')
      const { binding } = await bindDrain(h.admin, app, `syslog://127.0.0.1:${rs.tcpPort}`)
      const ctx = contextOf(app, { name: 'drops' })
      h.pipeline.sink.taskStarting(ctx)
      h.pipeline.sink.taskOutput(ctx, line(`warm ${app.appGuid}`))
      await rs.waitFor((x) => x.includes(`] warm ${app.appGuid}\n`))
      await rs.pause()
      await new Promise((r) => setTimeout(r, 200))
      const lines = Array.from({ length: 1500 }, (_, i) => `drop ${app.appGuid} ${i}`)
      for (const t of lines) h.pipeline.sink.taskOutput(ctx, line(t))
      const lost = await until('the drop notice', async () =>
        (await envelopes(h, app.appGuid, true)).find((e) => e.tags.source_type === 'LGR' && decodePayload(e).includes('messages lost')),
        20_000,
      )
      assert.equal(lost.log.type, 'ERR')
      assert.equal(lost.instance_id, '0')
      assert.equal(decodePayload(lost), `500 messages lost for application ${app.appGuid} in user provided syslog drain with url syslog://127.0.0.1:${rs.tcpPort}`)
      assert.equal((await drainStats(h, binding)).dropped, 500)
      await rs.resume()
      const text = await rs.waitFor((x) => x.includes(`] ${lines.at(-1)}\n`))
      const got = text.split('\n').filter((l) => l.includes(`drop ${app.appGuid} `)).map((l) => l.slice(l.indexOf('] drop ') + 2))
      assert.deepEqual(got, lines.slice(500), 'the newest 1000 lines arrive, in order')
      const stats = await drainStats(h, binding)
      assert.equal(stats.dropped, 500)
      assert.equal(stats.sent >= 1001, true)
    })

    it('stops draining when the app is unbound', async () => {
      const raw = await RawTcpReceiver.start()
      try {
        const app = await createApp(h.admin, 'unbind-app')
        const { binding } = await bindDrain(h.admin, app, `syslog://127.0.0.1:${raw.port}`)
        const ctx = contextOf(app, { name: 'u' })
        h.pipeline.sink.taskOutput(ctx, line('bound'))
        await until('bound line', () => raw.data.includes('bound\n'), 20_000)
        expectOk(await h.admin.delete(`/v3/service_credential_bindings/${binding}`), 204)
        h.pipeline.sink.taskOutput(ctx, line('after unbind'))
        await new Promise((r) => setTimeout(r, 300))
        assert.equal(raw.data.includes('after unbind'), false)
        assert.equal(await drainStats(h, binding), undefined)
      } finally {
        await raw.close()
      }
    })
  })
}

describe('drain buffer bounds', () => {
  it('bounds the buffer by payload size as well as by lines, dropping the oldest and counting exactly', async () => {
    const cfg = loadLogConfig({ CF_LEDGER_DRAIN_BUFFER_LINES: '1000', CF_LEDGER_DRAIN_BUFFER_BYTES: '1000' })
    const notices: string[] = []
    const port = await freePort() // nothing listens: the writer cannot deliver
    const app = { guid: 'app-guid', name: 'a', spaceGuid: 's', spaceName: 's', orgGuid: 'o', orgName: 'o' }
    const drain = new Drain({ bindingGuid: 'b', serviceInstanceGuid: 'si', url: `syslog://127.0.0.1:${port}`, credentials: {}, app }, cfg, new DrainPolicy(cfg), (_d, text) => notices.push(text), pino({ level: 'silent' }))
    const tags = { source_type: 'APP/TASK/t' }
    for (let i = 0; i < 100; i++) {
      const e: Envelope = { timestamp: BigInt(i), sourceId: 'app-guid', instanceId: '0', tags, type: 'OUT', payload: `${String(i).padStart(3, '0')}${'x'.repeat(47)}` }
      drain.enqueue(e)
    }
    const s = drain.stats()
    assert.equal(s.dropped, 80, '1000 bytes hold 20 lines of 50')
    assert.equal(s.buffered_lines, 20)
    assert.equal(s.buffered_bytes, 1000)
    await new Promise((r) => setTimeout(r, 1200))
    assert.ok(notices.includes(`80 messages lost for application app-guid in user provided syslog drain with url syslog://127.0.0.1:${port}`), notices.join('\n'))
    await drain.close()
  })
})

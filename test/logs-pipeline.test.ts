// The log pipeline in-process: the task log sink driven directly, results read over HTTP
// (log-cache API, task output) and from the store. Runs against both stores.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { expectOk } from './support/client.ts'
import { stores } from './support/server.ts'
import pino from 'pino'
import { loadLogConfig } from '../src/logs/config.ts'
import { OutputStore } from '../src/logs/output-store.ts'
import {
  contextOf,
  dbOf,
  createApp,
  decodePayload,
  insertTask,
  line,
  runFakeTask,
  setTaskState,
  sha256Lines,
  startHarness,
  type FakeApp,
  type Harness,
} from './logs-harness.ts'

const CLI_ZERO = '-6795364578871345152'

for (const store of stores()) {
  describe(`log pipeline [${store}]`, () => {
    let h: Harness
    /** A second server: a small ring, a fast heartbeat, small total and age limits for stored output. */
    let h2: Harness
    let app: FakeApp

    before(async () => {
      ;[h, h2] = await Promise.all([
        startHarness(store, { CF_LEDGER_LOG_TASK_MAX_BYTES: String(1024 * 1024), CF_LEDGER_LOG_FLUSH_MS: '50' }),
        startHarness(store, {
          CF_LEDGER_LOG_CACHE_MAX_PER_SOURCE: '50',
          CF_LEDGER_LOG_STREAM_HEARTBEAT_SECONDS: '1',
          CF_LEDGER_LOG_TOTAL_MAX_BYTES: String(96 * 1024),
          CF_LEDGER_LOG_MAX_AGE_SECONDS: '4',
          CF_LEDGER_LOG_SWEEP_SECONDS: '1',
          CF_LEDGER_LOG_FLUSH_MS: '20',
        }),
      ])
      app = await createApp(h.admin)
    })
    after(() => Promise.all([h.close(), h2.close()]))

    const read = (sourceId: string, query: string) => h.admin.get(`/api/v1/read/${sourceId}?${query}`)

    it('turns a task into envelopes as CF does: CELL lines, task lines, exit status, tags with task_guid', async () => {
      const a = await createApp(h.admin, 'env-app')
      const ctx = contextOf(a, { name: 'migrate' })
      await runFakeTask(h.pipeline, ctx, ['Migrating...', line('oops', 'ERR'), 'done'], 1)
      const r = expectOk(await read(a.appGuid, `start_time=${CLI_ZERO}&envelope_types=LOG&limit=1000`))
      const batch = r.body.envelopes.batch
      const shown = batch.map((e: any) => `${e.tags.source_type} ${e.log.type} ${decodePayload(e)}`) // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.deepEqual(shown, [
        `CELL OUT Cell cf-ledger creating container for instance ${ctx.taskGuid}`,
        `CELL OUT Cell cf-ledger successfully created container for instance ${ctx.taskGuid}`,
        'APP/TASK/migrate OUT Migrating...',
        'APP/TASK/migrate ERR oops',
        'APP/TASK/migrate OUT done',
        'APP/TASK/migrate OUT Exit status 1',
        `CELL OUT Cell cf-ledger stopping instance ${ctx.taskGuid}`,
        `CELL OUT Cell cf-ledger destroying container for instance ${ctx.taskGuid}`,
        `CELL OUT Cell cf-ledger successfully destroyed container for instance ${ctx.taskGuid}`,
      ])
      const e = batch[2]
      assert.equal(typeof e.timestamp, 'string')
      assert.match(e.timestamp, /^\d{19}$/)
      assert.equal(e.source_id, a.appGuid)
      assert.equal(e.instance_id, '0')
      assert.deepEqual(e.deprecated_tags, {})
      assert.deepEqual(e.tags, {
        source_type: 'APP/TASK/migrate',
        app_id: a.appGuid,
        app_name: 'env-app',
        organization_id: a.orgGuid,
        organization_name: a.orgName,
        space_id: a.spaceGuid,
        space_name: 'dev',
        source_id: a.appGuid,
        instance_id: '0',
        task_guid: ctx.taskGuid,
      })
      assert.equal(e.log.payload, Buffer.from('Migrating...').toString('base64'))
      const ts = batch.map((x: { timestamp: string }) => BigInt(x.timestamp))
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i] > ts[i - 1], 'timestamps strictly increase')
    })

    it('keeps every line durably with an exact summary; the output endpoint returns it as text and NDJSON', async () => {
      const ctx = contextOf(app, { name: 'big' })
      await insertTask(h.pipeline, ctx)
      const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'é'.repeat(i % 5)}`)
      const errs = new Set([7, 99, 1234])
      const summary = await runFakeTask(h.pipeline, ctx, lines.map((t, i) => line(t, errs.has(i) ? 'ERR' : 'OUT')))
      await setTaskState(h.pipeline, ctx.taskGuid, 'SUCCEEDED')
      assert.equal(summary.outLines, 20_000 - 3)
      assert.equal(summary.errLines, 3)
      assert.equal(summary.sha256, sha256Lines(lines))
      assert.equal(summary.bytes, Buffer.byteLength(lines.join('\n') + '\n'))
      assert.equal(summary.droppedLines, 0)
      assert.equal(summary.truncated, false)
      const text = await h.admin.get(`/v3/tasks/${ctx.taskGuid}/output`)
      assert.equal(text.status, 200)
      assert.match(text.headers.get('content-type')!, /^text\/plain/)
      assert.equal(text.body, lines.join('\n') + '\n')
      const nd = await h.admin.get(`/v3/tasks/${ctx.taskGuid}/output?format=ndjson`)
      const objs = String(nd.body).trim().split('\n').map((l) => JSON.parse(l))
      const s = objs.at(-1).summary
      assert.equal(s.sha256, summary.sha256)
      assert.equal(s.out_lines, 20_000 - 3)
      assert.equal(s.truncated, false)
      assert.equal(s.state, 'complete')
      const records = objs.slice(0, -1)
      assert.equal(records.length, 20_000 + 6)
      assert.deepEqual(records[0], { timestamp: records[0].timestamp, source_type: 'CELL', type: 'OUT', line: `Cell cf-ledger creating container for instance ${ctx.taskGuid}` })
      assert.deepEqual(records[9], { timestamp: records[9].timestamp, source_type: 'APP/TASK/big', type: 'ERR', line: lines[7] })
      assert.equal(records[20_002].line, 'Exit status 0')
    })

    it('cuts stored output at the per-task cap, records the cut, and keeps the summary exact', async () => {
      const ctx = contextOf(app, { name: 'capped' })
      await insertTask(h.pipeline, ctx)
      const lines = Array.from({ length: 20_000 }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(50)}`)
      const summary = await runFakeTask(h.pipeline, ctx, lines)
      await setTaskState(h.pipeline, ctx.taskGuid, 'SUCCEEDED')
      assert.equal(summary.truncated, true)
      assert.equal(summary.outLines, 20_000)
      assert.equal(summary.sha256, sha256Lines(lines))
      const text = String((await h.admin.get(`/v3/tasks/${ctx.taskGuid}/output`)).body)
      const got = text.trimEnd().split('\n')
      const marker = got.pop()!
      assert.match(marker, /^\[cf-ledger\] output truncated: \d+ records \(\d+ bytes\) not stored \(task_cap\)$/)
      // The head is kept, in order, with nothing missing before the cut.
      assert.ok(got.length > 1000 && got.length < 20_000, `${got.length} lines kept`)
      assert.deepEqual(got, lines.slice(0, got.length))
      const nd = String((await h.admin.get(`/v3/tasks/${ctx.taskGuid}/output?format=ndjson`)).body).trim().split('\n')
      const s = JSON.parse(nd.at(-1)!).summary
      assert.equal(s.truncated, true)
      assert.deepEqual(s.truncation_reasons, ['task_cap'])
      // Every record is either stored or counted as truncated: 20,000 lines + 6 platform lines.
      assert.equal(s.stored_records + s.truncated_records, 20_006)
      assert.ok(s.stored_records * 70 <= 1024 * 1024)
    })

    it("applies the task's log rate limit as the executor does: drops, counts and one notice", async () => {
      const ctx = contextOf(await createApp(h.admin), { name: 'chatty', rate: 100 })
      const lines = Array.from({ length: 50 }, (_, i) => `msg-${String(i).padStart(46, '0')}`) // 50 bytes each: two fit in the bucket
      const summary = await runFakeTask(h.pipeline, ctx, lines)
      assert.equal(summary.droppedLines, 48)
      assert.equal(summary.outLines, 50)
      assert.equal(summary.sha256, sha256Lines(lines))
      const r = expectOk(await read(ctx.appGuid, 'limit=1000'))
      const task = r.body.envelopes.batch.filter((e: any) => e.tags.source_type === 'APP/TASK/chatty') // eslint-disable-line @typescript-eslint/no-explicit-any
      const texts = task.map(decodePayload)
      assert.deepEqual(texts, [...lines.slice(0, 2), 'app instance exceeded log rate limit (100 bytes/sec)', 'Exit status 0'])
      assert.equal(task[2].log.type, 'OUT')
    })

    it('with a log rate limit of 0 keeps no line (CF: "Not allowed to log") but counts them all', async () => {
      const ctx = contextOf(await createApp(h.admin), { name: 'mute', rate: 0 })
      const summary = await runFakeTask(h.pipeline, ctx, ['a', 'b', 'c'])
      assert.equal(summary.droppedLines, 3)
      assert.equal(summary.outLines, 3)
    })

    it('reads like log-cache: time window, limit, descending, envelope types, name filter', async () => {
      const a = await createApp(h.admin)
      const ctx = contextOf(a, { name: 'w' })
      const lines = Array.from({ length: 150 }, (_, i) => `w${i}`)
      await runFakeTask(h.pipeline, ctx, lines)
      const all = expectOk(await read(a.appGuid, 'limit=1000')).body.envelopes.batch
      assert.equal(all.length, 156)
      const dflt = expectOk(await read(a.appGuid, '')).body.envelopes.batch
      assert.equal(dflt.length, 100, 'default limit 100')
      assert.equal(expectOk(await read(a.appGuid, 'limit=0')).body.envelopes.batch.length, 100)
      const t10 = all[10].timestamp
      const t20 = all[20].timestamp
      const win = expectOk(await read(a.appGuid, `start_time=${t10}&end_time=${t20}`)).body.envelopes.batch
      assert.equal(win.length, 10, 'start inclusive, end exclusive')
      assert.equal(win[0].timestamp, t10)
      const desc = expectOk(await read(a.appGuid, `descending=true&limit=3&start_time=${CLI_ZERO}`)).body.envelopes.batch
      assert.deepEqual(desc.map((e: { timestamp: string }) => e.timestamp), [all[155].timestamp, all[154].timestamp, all[153].timestamp])
      assert.equal(expectOk(await read(a.appGuid, 'envelope_types=COUNTER&envelope_types=GAUGE')).body.envelopes.batch.length, 0)
      assert.equal(expectOk(await read(a.appGuid, 'envelope_types=LOG&envelope_types=GAUGE')).body.envelopes.batch.length, 100)
      assert.equal(expectOk(await read(a.appGuid, 'name_filter=cpu.*')).body.envelopes.batch.length, 0)
      assert.deepEqual(expectOk(await read(crypto.randomUUID(), '')).body, { envelopes: { batch: [] } }, 'admin: unknown source is empty')
      const meta = expectOk(await h.admin.get('/api/v1/meta')).body.meta[a.appGuid]
      assert.deepEqual(meta, { count: '156', expired: '0', oldestTimestamp: all[0].timestamp, newestTimestamp: all[155].timestamp })
      const info = expectOk(await h.api.get('/api/v1/info')).body
      assert.equal(info.version, '3.0.0')
    })

    it('answers malformed log-cache parameters with clear 400s', async () => {
      const cases: [string, RegExp][] = [
        ['start_time=abc', /start_time must be an integer/],
        ['end_time=1.5', /end_time must be an integer/],
        ['start_time=99999999999999999999', /out of range/],
        ['start_time=10&end_time=10', /StartTime \(10\) must be before EndTime \(10\)/],
        ['limit=1001', /limit \(1001\) must be 1000 or less/],
        ['limit=-1', /limit \(-1\) must be greater than zero/],
        ['limit=ten', /limit must be an integer/],
        ['descending=maybe', /descending must be true or false/],
        ['envelope_types=LOGS', /envelope_types must be one of/],
        ['name_filter=(', /name filter must be a valid regular expression/],
        ['bogus=1', /unknown query parameter\(s\): bogus/],
      ]
      for (const [q, msg] of cases) {
        const r = await read(app.appGuid, q)
        assert.equal(r.status, 400, q)
        assert.equal(r.body.error, 'bad_request')
        assert.match(r.body.message, msg, q)
      }
      const out = await h.admin.get(`/v3/tasks/${crypto.randomUUID()}/output?format=xml`)
      assert.equal(out.status, 400)
      assert.equal(out.body.errors[0].title, 'CF-BadQueryParameter')
      const sse = await h.admin.get(`/v2/read?source_id=${app.appGuid}`)
      assert.equal(sse.status, 400)
      assert.match(sse.body.message, /at least one envelope type/)
    })

    it('keeps the newest envelopes per source in the ring and counts the expired', async () => {
      {
        const a = await createApp(h2.admin)
        await runFakeTask(h2.pipeline, contextOf(a), Array.from({ length: 100 }, (_, i) => `r${i}`))
        const batch = expectOk(await h2.admin.get(`/api/v1/read/${a.appGuid}?limit=1000`)).body.envelopes.batch
        assert.equal(batch.length, 50)
        assert.equal(decodePayload(batch.at(-1)), `Cell cf-ledger successfully destroyed container for instance ${batch.at(-1).tags.task_guid}`)
        const meta = expectOk(await h2.admin.get('/api/v1/meta')).body.meta[a.appGuid]
        assert.equal(meta.count, '50')
        assert.equal(meta.expired, '56')
      }
    })

    it('streams server-sent events with heartbeats (RLP gateway) and follows a task until it ends', async () => {
      const h3 = h2
      {
        const a = await createApp(h3.admin)
        const ctx = contextOf(a, { name: 'live' })
        await insertTask(h3.pipeline, ctx)
        const ac = new AbortController()
        const res = await fetch(`${h3.app.url}/v2/read?log&source_id=${a.appGuid}`, { headers: { authorization: `bearer ${h3.admin.token}` }, signal: ac.signal })
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('content-type'), 'text/event-stream')
        const follow = fetch(`${h3.app.url}/v3/tasks/${ctx.taskGuid}/output?follow=true`, { headers: { authorization: `bearer ${h3.admin.token}` } }).then((r) => r.text())
        await new Promise((r) => setTimeout(r, 300))
        h3.pipeline.sink.taskStarting(ctx)
        for (let i = 0; i < 5; i++) h3.pipeline.sink.taskOutput(ctx, line(`live ${i}`))
        let text = ''
        const reader = res.body!.getReader()
        const deadline = Date.now() + 5000
        while (Date.now() < deadline && !(text.includes('live 4') && text.includes('event: heartbeat'))) {
          const { value, done } = await reader.read()
          if (done) break
          text += Buffer.from(value).toString()
        }
        ac.abort()
        const batches = text
          .split('\n\n')
          .filter((b) => b.startsWith('data: '))
          .flatMap((b) => JSON.parse(b.slice(6)).batch)
        const payloads = batches.map(decodePayload)
        assert.deepEqual(payloads.filter((p: string) => p.startsWith('live')), ['live 0', 'live 1', 'live 2', 'live 3', 'live 4'])
        assert.match(text, /event: heartbeat\ndata: \d+\n\n/)
        await h3.pipeline.sink.taskExited(ctx, { exitStatus: 0, oomKilled: false })
        await setTaskState(h3.pipeline, ctx.taskGuid, 'SUCCEEDED')
        assert.equal(await follow, 'live 0\nlive 1\nlive 2\nlive 3\nlive 4\n')
      }
    })

    it('applies total-size and age retention to stored output, oldest finished tasks first, and records each cut', async () => {
      const a = await createApp(h2.admin)
      const tasks = []
      for (let t = 0; t < 4; t++) {
        const ctx = contextOf(a, { name: `ret${t}` })
        await insertTask(h2.pipeline, ctx)
        const lines = Array.from({ length: 500 }, (_, i) => `${t}:${i} ${'r'.repeat(40)}`) // ~30 KiB of records
        const summary = await runFakeTask(h2.pipeline, ctx, lines)
        await setTaskState(h2.pipeline, ctx.taskGuid, 'SUCCEEDED')
        assert.equal(summary.truncated, false)
        tasks.push({ ctx, lines, summary })
      }
      const summaryOf = async (guid: string) => {
        // A body of one NDJSON line (the summary alone) arrives already parsed.
        const b = (await h2.admin.get(`/v3/tasks/${guid}/output?format=ndjson`)).body
        return (typeof b === 'string' ? JSON.parse(b.trim().split('\n').at(-1)!) : b).summary
      }
      // 4 × ~30 KiB > 96 KiB: the oldest task's output went first; the newest is whole.
      // The sweep runs in the background after the write that went over the limit.
      let first = await summaryOf(tasks[0]!.ctx.taskGuid)
      for (let i = 0; i < 100 && !first.truncation_reasons.length; i++) {
        await new Promise((r) => setTimeout(r, 100))
        first = await summaryOf(tasks[0]!.ctx.taskGuid)
      }
      assert.deepEqual(first.truncation_reasons, ['total_cap'])
      assert.equal(first.stored_records, 0)
      assert.equal(first.truncated_records, 506)
      assert.equal(first.sha256, tasks[0]!.summary.sha256, 'the summary survives the cut')
      const text = String((await h2.admin.get(`/v3/tasks/${tasks[0]!.ctx.taskGuid}/output`)).body)
      assert.match(text, /^\[cf-ledger\] output truncated: 506 records \(\d+ bytes\) not stored \(total_cap\)\n$/)
      const last = await summaryOf(tasks[3]!.ctx.taskGuid)
      assert.equal(last.truncated, false)
      assert.equal(String((await h2.admin.get(`/v3/tasks/${tasks[3]!.ctx.taskGuid}/output`)).body), tasks[3]!.lines.join('\n') + '\n')
      // Past the age limit (4 s, swept every second) nothing of it is kept, and that is recorded too.
      await new Promise((r) => setTimeout(r, 6000))
      const aged = await summaryOf(tasks[3]!.ctx.taskGuid)
      assert.deepEqual(aged.truncation_reasons, ['age'])
      assert.equal(aged.stored_records, 0)
      assert.equal(aged.out_lines, 500)
    })

    it('never waits for the database: past the pending-write limit lines are counted, not stored, and the cut is recorded', async () => {
      // A second writer on the same database whose pending limit is one byte.
      const store = new OutputStore(dbOf(h.pipeline), loadLogConfig({ CF_LEDGER_LOG_MAX_PENDING_BYTES: '1' }), pino({ level: 'silent' }))
      const taskGuid = crypto.randomUUID()
      const w = store.begin(taskGuid, app.appGuid)
      // ~1.3 MiB of records: the first chunk fills (1 MiB) and waits for the database, so every
      // later line, appended in the same turn, is over the limit.
      for (let i = 0; i < 20_000; i++) store.append(w, 0, BigInt(i), `${String(i).padStart(8, '0')} ${'b'.repeat(60)}`)
      await store.finish(w, { outLines: 20_000, errLines: 0, bytes: 0, sha256: 'x', droppedLines: 0 })
      const row = (await store.summary(taskGuid))!
      assert.deepEqual(row.truncation_reasons, ['backpressure'])
      assert.ok(Number(row.stored_records) > 10_000 && Number(row.stored_records) < 20_000, `${row.stored_records} stored`)
      assert.equal(Number(row.stored_records) + Number(row.truncated_records), 20_000)
      let next = 0
      for await (const recs of store.stored(taskGuid)) for (const r of recs) assert.equal(r.index, next++, 'the stored head is whole')
      assert.equal(next, Number(row.stored_records))
    })
  })
}

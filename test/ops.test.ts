import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk } from './support/client.ts'
import { until } from './support/wait.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const SCRAPE_TOKEN = 'scrape-secret-0123456789'

for (const store of stores()) {
  describe(`health and metrics [${store}]`, () => {
    let server: TestServer
    let admin: Api
    before(async () => {
      server = await startServer(store, { env: { CF_LEDGER_METRICS_TOKEN: SCRAPE_TOKEN } })
      admin = await new Api(server.url).admin()
    })
    after(() => server?.stop())

    it('answers /healthz and /readyz without authentication', async () => {
      const health = await fetch(`${server.url}/healthz`)
      assert.equal(health.status, 200)
      const ready = await fetch(`${server.url}/readyz`)
      assert.equal(ready.status, 200)
      assert.equal(await ready.text(), 'ready\n')
    })

    it('serves Prometheus metrics to admins and the scrape token only', async () => {
      await createOrgAndSpace(admin, 'o', 's')
      const anon = await fetch(`${server.url}/metrics`)
      assert.equal(anon.status, 401)
      assert.equal(((await anon.json()) as { errors: { code: number }[] }).errors[0]!.code, 10002)
      const user = await createUser(admin, 'plain')
      assert.equal((await user.api.get('/metrics')).status, 403)

      const r = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })
      assert.equal(r.status, 200)
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      const text = await r.text()
      assert.match(text, /cf_ledger_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v3\/organizations",status="201"\} [1-9]/)
      assert.match(text, /^cf_ledger_database_up 1$/m)
      assert.match(text, /^cf_ledger_tasks\{state="RUNNING"\} 0$/m)
      assert.match(text, /^cf_ledger_audit_events_appended [1-9]\d*$/m)
      // The integrator makes the events leaves within a pass; the gauge follows the log's size.
      const scrape = async () => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).text()
      const leaves = await until('the log leaves gauge', async () => Number(/^cf_ledger_ledger_log_leaves (\d+)$/m.exec(await scrape())?.[1] ?? 0) || undefined, 10_000, 100)
      const size = Number(expectOk(await admin.get('/ledger/v1/export/syslog')).body.head)
      assert.ok(leaves >= 1 && leaves <= size, `gauge ${leaves}, log size ${size}`)
      for (const name of ['cf_ledger_task_queue_depth', 'cf_ledger_task_output_stored_bytes', 'cf_ledger_task_output_dropped_bytes', 'cf_ledger_drain_dropped_lines', 'cf_ledger_ledger_checkpoint_age_seconds', 'cf_ledger_process_resident_memory_bytes']) {
        assert.match(text, new RegExp(`^${name} `, 'm'), name)
      }
      assert.match(text, /^cf_ledger_db_pool_connections\{state="open"\} [1-9]/m)
      assert.match(text, /^cf_ledger_drain_buffer\{unit="lines"\} 0$/m)
      expectOk(await admin.get('/metrics'))
    })

    it('refuses a second server on the same embedded store with a clear message, and leaves the first serving', { skip: store !== 'embedded' && 'PostgreSQL is shared by design' }, async () => {
      const failed = await startServer(store, { dataDir: server.dataDir }).then(
        () => assert.fail('a second server opened the same embedded store'),
        (err: Error) => err.message,
      )
      assert.match(failed, /exited with 1/)
      assert.match(failed, /the embedded store in .* is open in another process \(pid \d+\)/)
      assert.doesNotMatch(failed, /\n\s+at /)
      expectOk(await admin.get('/v3/organizations'))
    })
  })
}

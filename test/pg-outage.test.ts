// PostgreSQL going away under a running server: restarts (fast, immediate), a terminated
// backend, and a server started while PostgreSQL is down. PostgreSQL only: the embedded store
// lives inside the server process and cannot go away on its own.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { freePort, startCluster, type Cluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function completionEvents(url: string, taskGuid: string): Promise<number> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const r = await c.query(`select count(*)::int as n from events where type = 'audit.app.task.complete' and metadata->>'task_guid' = $1`, [taskGuid])
    return r.rows[0].n
  } finally {
    await c.end()
  }
}

/** Requests in a loop until stopped; returns every status seen. */
function hammer(api: Api): { stop(): Promise<number[]> } {
  const statuses: number[] = []
  let on = true
  const loop = (async () => {
    for (let i = 0; on; i++) {
      const r = await api.get('/v3/organizations').catch(() => ({ status: -1 }))
      statuses.push(r.status)
      await sleep(25)
    }
  })()
  return {
    async stop() {
      on = false
      await loop
      return statuses
    },
  }
}

async function untilOk(api: Api, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await api.get('/v3/organizations')).status !== 200) {
    if (Date.now() > deadline) throw new Error('requests did not recover')
    await sleep(100)
  }
}

// Shorter than the restarts' outages: nobody can renew a lease while PostgreSQL is away, and no
// live server's task may be taken for a dead one's when it comes back (src/cluster/lease.ts).
const LEASE_MS = 2000
const OUTAGE_MS = 3000

describe('PostgreSQL outages', { skip: !stores().includes('postgres') }, () => {
  let cluster: Cluster
  let server: TestServer
  // A second server on the same database: whichever of the two reconnects first must not fail
  // the other's task.
  let peer: TestServer
  let admin: Api
  let appGuid: string
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-outage-'))

  before(async () => {
    const port = await freePort()
    // Beside, not inside, the private temp dir: the postgres user must reach it.
    cluster = startCluster(path.join(os.tmpdir(), `cf-ledger-outage-pg-${port}`), port)
    const env = { CF_LEDGER_LEASE_MS: String(LEASE_MS) }
    server = await startServer('postgres', { dataDir: path.join(work, 'data'), databaseUrl: cluster.url, env: { ...env, CF_LEDGER_NODE_ID: 'node-a' } })
    peer = await startServer('postgres', { dataDir: path.join(work, 'peer'), databaseUrl: cluster.url, env: { ...env, CF_LEDGER_NODE_ID: 'node-b' } })
    admin = await new Api(server.url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'o', 's')
    appGuid = await pushApp(admin, spaceGuid, 'app')
  })
  after(async () => {
    await Promise.all([server?.stop('SIGKILL'), peer?.stop('SIGKILL')])
    cluster?.stop()
    fs.rmSync(work, { recursive: true, force: true })
  })

  /** What both servers logged about leases and recovery: the story of a task failed by mistake. */
  const leaseLog = () =>
    [server, peer]
      .flatMap((s) => s.output().split('\n').filter((l) => /lease|recovered|reachable|unavailable/.test(l)))
      .join('\n')

  async function runningTask(command: string): Promise<string> {
    const t = expectOk(await admin.post(`/v3/apps/${appGuid}/tasks`, { command }), 202)
    for (let i = 0; i < 400; i++) {
      if (expectOk(await admin.get(`/v3/tasks/${t.body.guid}`)).body.state === 'RUNNING') return t.body.guid
      await sleep(25)
    }
    throw new Error('task did not start')
  }

  for (const mode of ['fast', 'immediate'] as const) {
    it(`survives a ${mode} restart: 503 while away, recovery, and a task that ended meanwhile gets its final state once`, async () => {
      const task = await runningTask('sleep 1; echo finished')
      const across = await runningTask('sleep 6; echo finished')
      const load = hammer(admin)
      const restarted = cluster.restart(mode, OUTAGE_MS)
      await sleep(1500)
      const during = await admin.get('/v3/organizations')
      assert.equal(during.status, 503)
      assert.equal(during.body.errors[0].code, 10015)
      assert.equal(during.body.errors[0].title, 'CF-ServiceUnavailable')
      assert.ok(Number(during.headers.get('retry-after')) > 0)
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503)
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
      await restarted
      await untilOk(admin)
      const statuses = await load.stop()
      assert.deepEqual([...new Set(statuses)].sort(), [200, 503])
      assert.equal(server.process.exitCode, null, server.output())
      assert.equal(peer.process.exitCode, null, peer.output())

      const done = await waitForTask(admin, task)
      assert.equal(done.state, 'SUCCEEDED', `${JSON.stringify(done.result)}\n${leaseLog()}`)
      assert.equal(await completionEvents(cluster.url, task), 1)
      const out = expectOk(await admin.get(`/ledger/v1/tasks/${task}/trail`))
      assert.deepEqual(out.body.output.tail.map((l: { text: string }) => l.text), ['finished'])
      // One that ran right across the outage: its lease ran out while nobody could renew it.
      const later = await waitForTask(admin, across)
      assert.equal(later.state, 'SUCCEEDED', `${JSON.stringify(later.result)}\n${leaseLog()}`)
      assert.equal(await completionEvents(cluster.url, across), 1)
    })
  }

  it('survives its backends being terminated while requests and a task run', async () => {
    const task = await runningTask('sleep 1; echo finished')
    const load = hammer(admin)
    const c = new pg.Client({ connectionString: cluster.url })
    await c.connect()
    await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and backend_type = 'client backend'`)
    await c.end()
    await untilOk(admin)
    const statuses = await load.stop()
    assert.ok(statuses.every((s) => s === 200 || s === 503), String(statuses))
    assert.equal((await waitForTask(admin, task)).state, 'SUCCEEDED')
    assert.equal(await completionEvents(cluster.url, task), 1)
  })

  it('waits for PostgreSQL at start-up, and gives up with a clear message', async () => {
    await Promise.all([server.stop(), peer.stop()])
    await cluster.down('fast')
    const failed = await startServer('postgres', {
      dataDir: server.dataDir,
      databaseUrl: cluster.url,
      env: { CF_LEDGER_DATABASE_WAIT_SECONDS: '1' },
    }).then(
      () => assert.fail('started without a database'),
      (err: Error) => err.message,
    )
    assert.match(failed, /exited with 1/)
    assert.match(failed, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/postgres after 1 s/)
    assert.doesNotMatch(failed, /\n\s+at /)

    const starting = startServer('postgres', { dataDir: server.dataDir, databaseUrl: cluster.url })
    await sleep(1500)
    await cluster.up()
    server = await starting
    expectOk(await (await new Api(server.url).admin()).get('/v3/organizations'))
  })
})

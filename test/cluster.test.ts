// Three real servers on one PostgreSQL database (docs/cluster.md): tasks are claimed by whichever
// server has a free slot, a killed server's work is recovered by owner within the detection time,
// cancel and logs work through any server, and `cf-ledger verify` passes on every one.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { ADMIN_PASSWORD, CLI, freshStore, startServer, stores, type TestServer } from './support/server.ts'
import { Api, createOrgAndSpace, expectOk } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import pino from 'pino'
import { sql } from 'kysely'
import { leaseLeader } from '../src/cluster/leader.ts'
import { openStore } from '../src/store/store.ts'
import { until } from './support/wait.ts'

// Short enough to keep the recovery tests quick, long enough that a live server stalled by a
// loaded CI machine (heartbeats every LEASE_MS / 3) is not taken for a dead one.
const LEASE_MS = 2500
const SWEEP_MS = LEASE_MS / 2
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const CF = fs.existsSync('/usr/local/bin/cf') ? '/usr/local/bin/cf' : undefined

for (const store of stores()) {
  describe(`cluster: three servers on one database [${store}]`, { skip: store === 'embedded' ? 'the embedded store is opened by one server only' : false }, () => {
    const servers: TestServer[] = []
    const apis: Api[] = []
    let db: pg.Client
    let appGuid: string
    let starts: string
    let env: Record<string, string>
    let databaseUrl: string

    /** Each server has its own data directory; the archive is shared, as docs/cluster.md asks. */
    async function start(i: number, dataDir: string): Promise<void> {
      servers[i] = await startServer('postgres', { env: { ...env, CF_LEDGER_NODE_ID: nodeIds.get(i)! }, databaseUrl, dataDir })
      apis[i] = await new Api(servers[i]!.url).admin()
    }
    const nodeOf = (owner: string | null) => owner?.split(':')[0]
    const owners = async (guids: string[]) =>
      new Map((await db.query<{ guid: string; owner: string | null; state: string }>('select guid, owner, state from tasks where guid = any($1)', [guids])).rows.map((r) => [r.guid, r]))
    const nodeIds = new Map([0, 1, 2].map((i) => [i, `node-${'abc'[i]}`]))
    const serverWithNode = (node: string | undefined) => [...nodeIds].find(([, n]) => n === node)![0]

    async function createTask(via: number, command: string, name: string): Promise<string> {
      return expectOk(await apis[via]!.post(`/v3/apps/${appGuid}/tasks`, { command, name }), 202).body.guid
    }

    before(async () => {
      // An empty database: the three servers start together and race on its migrations.
      const fresh = await freshStore('postgres', { empty: true })
      databaseUrl = fresh.databaseUrl!
      const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-cluster-'))
      fs.chmodSync(shared, 0o777)
      starts = path.join(shared, 'starts')
      fs.mkdirSync(starts, { mode: 0o777 })
      fs.chmodSync(starts, 0o777)
      env = {
        CF_LEDGER_LEASE_MS: String(LEASE_MS),
        CF_LEDGER_CLAIM_POLL_MS: '500',
        CF_LEDGER_TASK_CONCURRENCY: '2',
        CF_LEDGER_TASK_CANCEL_GRACE_MS: '2000',
        // Plain processes see the host, so a task can count its own starts in a shared directory.
        CF_LEDGER_TASK_SANDBOX: 'none',
        CF_LEDGER_ARCHIVE_DIR: path.join(shared, 'archive'),
        CF_LEDGER_CHECKPOINT_INTERVAL: '1',
      }
      await Promise.all([0, 1, 2].map((i) => start(i, `${fresh.dataDir}-${'abc'[i]}`)))
      db = new pg.Client({ connectionString: databaseUrl })
      await db.connect()
      const { spaceGuid } = await createOrgAndSpace(apis[0]!, 'cluster-org', 'cluster-space')
      appGuid = await pushApp(apis[0]!, spaceGuid, 'worker')
    })
    after(async () => {
      await db?.end()
      for (const s of servers) await s?.stop('SIGKILL')
    })

    it('runs tasks created on one server on all of them', async () => {
      const guids: string[] = []
      for (let i = 0; i < 9; i++) guids.push(await createTask(0, 'sleep 1', `spread-${i}`))
      for (const g of guids) {
        const t = await waitForTask(apis[1]!, g)
        assert.equal(t.state, 'SUCCEEDED', `${g}: ${t.result?.failure_reason}`)
      }
      const ran = await owners(guids)
      const nodes = new Set([...ran.values()].map((r) => nodeOf(r.owner)))
      assert.equal(nodes.size, 3, `ran on ${[...nodes].join(', ')}`)
    })

    it('recovers a SIGKILLed server within the detection time and leaves the others alone', async () => {
      // Six slots in all: fill them, then queue two more through the server about to be killed.
      const running: string[] = []
      for (let i = 0; i < 6; i++) running.push(await createTask(i % 3, 'sleep 4', `busy-${i}`))
      const byGuid = await until('all six RUNNING', async () => {
        const m = await owners(running)
        return [...m.values()].every((r) => r.state === 'RUNNING') ? m : undefined
      })
      const victimNode = nodeOf(byGuid.get(running[0]!)!.owner)!
      const victimTasks = running.filter((g) => nodeOf(byGuid.get(g)!.owner) === victimNode)
      const otherTasks = running.filter((g) => !victimTasks.includes(g))
      const victim = serverWithNode(victimNode)
      const queued = [await createTask(victim, 'true', 'queued-0'), await createTask(victim, 'true', 'queued-1')]
      const killedAt = Date.now()
      await servers[victim]!.stop('SIGKILL')
      const survivor = (victim + 1) % 3
      for (const g of victimTasks) {
        const t = await waitForTask(apis[survivor]!, g, 15_000)
        assert.equal(t.state, 'FAILED')
        assert.equal(t.result.failure_reason, 'Unable to determine completion status')
        const detected = Date.parse(t.updated_at) - killedAt
        assert.ok(detected < LEASE_MS + SWEEP_MS + 2000, `failed ${detected} ms after the kill`)
      }
      for (const g of otherTasks) assert.equal((await waitForTask(apis[survivor]!, g, 15_000)).state, 'SUCCEEDED', 'a live server’s task is untouched')
      for (const g of queued) {
        assert.equal((await waitForTask(apis[survivor]!, g, 15_000)).state, 'SUCCEEDED')
        assert.notEqual(nodeOf((await owners([g])).get(g)!.owner), victimNode)
      }
      const events = await db.query(`select count(*)::int as n from events where type = $1 and metadata->>'task_guid' = any($2)`, ['audit.app.task.complete', victimTasks])
      assert.equal(events.rows[0].n, victimTasks.length, 'one completion event per recovered task')

      // Restarting it (same data dir, new instance) changes no other server's task.
      const others = [await createTask(survivor, 'sleep 2', 'during-restart-0'), await createTask(survivor, 'sleep 2', 'during-restart-1')]
      await until('both RUNNING', async () => [...(await owners(others)).values()].every((r) => r.state === 'RUNNING'))
      await start(victim, servers[victim]!.dataDir)
      for (const g of others) assert.equal((await waitForTask(apis[victim]!, g)).state, 'SUCCEEDED')
      // And a graceful restart of another server too.
      const third = (victim + 2) % 3
      const more = [await createTask(victim, 'sleep 2', 'during-restart-2'), await createTask(victim, 'sleep 2', 'during-restart-3')]
      await until('RUNNING', async () => [...(await owners(more)).values()].every((r) => r.state === 'RUNNING'))
      const moreOwners = await owners(more)
      const restartable = [0, 1, 2].find((i) => i !== victim && ![...moreOwners.values()].some((r) => nodeOf(r.owner) === nodeIds.get(i))) ?? third
      await servers[restartable]!.stop('SIGTERM')
      await start(restartable, servers[restartable]!.dataDir)
      for (const g of more) {
        const t = await waitForTask(apis[victim]!, g)
        if (nodeOf(moreOwners.get(g)!.owner) !== nodeIds.get(restartable)) assert.equal(t.state, 'SUCCEEDED')
      }
    })

    it('never starts a task twice, over a few hundred tasks with servers killed at random', async () => {
      const total = 240
      const guids: string[] = []
      const names = new Map<string, string>()
      let killing = Promise.resolve()
      const chaos = (async () => {
        for (let round = 0; round < 3; round++) {
          await sleep(1500 + Math.random() * 1500)
          const i = Math.floor(Math.random() * 3)
          killing = (async () => {
            await servers[i]!.stop('SIGKILL')
            await start(i, servers[i]!.dataDir)
          })()
          await killing
        }
      })()
      // Four creators at a time, each moving to another server while one is down.
      let next = 0
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let n = next++; n < total; n = next++) {
            for (let attempt = 0; ; attempt++) {
              // One file per attempt: a create whose answer was lost with a killed server is another task.
              const name = `once-${n}-${attempt}`
              try {
                const g = await createTask((n + attempt) % 3, `echo "$$" >> ${starts}/${name}`, name)
                guids.push(g)
                names.set(g, name)
                break
              } catch (err) {
                if (attempt > 20) throw err
                await sleep(100)
              }
            }
          }
        }),
      )
      await chaos
      await killing
      const finished = await until(
        'every task to finish',
        async () => {
          const r = await db.query<{ guid: string; state: string; failure_reason: string | null }>('select guid, state, failure_reason from tasks where guid = any($1)', [guids])
          return r.rows.every((t) => t.state === 'SUCCEEDED' || t.state === 'FAILED') ? r.rows : undefined
        },
        120_000,
        200,
      )
      let succeeded = 0
      for (const t of finished) {
        const file = path.join(starts, names.get(t.guid)!)
        const count = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').length : 0
        assert.ok(count <= 1, `${names.get(t.guid)} started ${count} times`)
        if (t.state === 'SUCCEEDED') {
          succeeded++
          assert.equal(count, 1)
        } else {
          assert.equal(t.failure_reason, 'Unable to determine completion status', `${names.get(t.guid)}: ${t.failure_reason}`)
        }
      }
      assert.ok(succeeded > total / 2, `${succeeded} of ${total} succeeded`)
    })

    it('cancels through another server: the owner signals the process and records its exit', async () => {
      const guid = await createTask(0, `trap 'echo got-TERM; exit 3' TERM; echo ready; while true; do sleep 0.1; done`, 'cancel-me')
      const owner = await until('RUNNING', async () => {
        const r = (await owners([guid])).get(guid)!
        return r.state === 'RUNNING' && r.owner
      })
      const other = [0, 1, 2].find((i) => nodeIds.get(i) !== nodeOf(owner))!
      await sleep(300)
      expectOk(await apis[other]!.post(`/v3/tasks/${guid}/actions/cancel`), 202)
      const t = await waitForTask(apis[other]!, guid, 15_000)
      assert.equal(t.state, 'FAILED')
      assert.equal(t.result.failure_reason, 'task was cancelled')
      const row = (await db.query<{ exit_status: number }>('select exit_status from tasks where guid = $1', [guid])).rows[0]!
      assert.equal(row.exit_status, 3, 'the exit status of the trapped SIGTERM')
      const out = await fetch(`${servers[other]!.url}/v3/tasks/${guid}/output`, { headers: { authorization: `bearer ${apis[other]!.token}` } })
      assert.match(await out.text(), /^ready\n(Terminated\n)?got-TERM\n/)
    })

    it('shows every line of a task running on A through server B: followed output and the real cf CLI', { skip: CF ? false : 'the cf CLI is not installed' }, async () => {
      const LINES = 40
      const command = `sleep 3; i=0; while [ $i -lt ${LINES} ]; do echo "line-$i"; i=$((i+1)); sleep 0.02; done`
      let cfOut = ''
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-home-'))
      const cf = (...args: string[]) =>
        spawnSync(CF!, args, { env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_COLOR: 'false', LANG: 'C' }, encoding: 'utf8', timeout: 60_000 })
      // Place the task, then pick a B that does not run it.
      const guid = await createTask(0, command, 'printer')
      const owner = await until('claimed', async () => (await owners([guid])).get(guid)!.owner ?? undefined)
      const b = [0, 1, 2].find((i) => nodeIds.get(i) !== nodeOf(owner))!
      assert.equal(cf('api', servers[b]!.url).status, 0)
      assert.equal(cf('auth', 'admin', ADMIN_PASSWORD).status, 0)
      assert.equal(cf('target', '-o', 'cluster-org', '-s', 'cluster-space').status, 0)
      const cfLogs = spawn(CF!, ['logs', 'worker'], { env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_COLOR: 'false', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
      cfLogs.stdout!.on('data', (d) => (cfOut += d))
      const followed = await fetch(`${servers[b]!.url}/v3/tasks/${guid}/output?follow=true`, { headers: { authorization: `bearer ${apis[b]!.token}` } })
      const text = await followed.text()
      const expected = Array.from({ length: LINES }, (_, i) => `line-${i}`)
      assert.deepEqual(text.trim().split('\n'), expected, 'followed output through B')
      // cf logs walks log-cache 2 s behind the newest line.
      await until('cf logs to show the last line', async () => cfOut.includes(`line-${LINES - 1}`), 15_000, 200)
      cfLogs.kill('SIGTERM')
      const shown = expected.filter((l) => new RegExp(`\\[APP/TASK/printer/0\\] OUT ${l}$`, 'm').test(cfOut))
      assert.deepEqual(shown, expected, 'live cf logs through B')
      const recent = cf('logs', 'worker', '--recent')
      assert.equal(recent.status, 0)
      for (const l of expected) assert.match(recent.stdout, new RegExp(`OUT ${l}$`, 'm'), 'cf logs --recent through B')
      fs.rmSync(home, { recursive: true, force: true })
    })

    it('passes cf-ledger verify on every server (one checkpoint key, one archive)', async () => {
      await sleep(1200)
      const verify = (dataDir: string) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(CLI, ['verify', '--data-dir', dataDir], {
            env: { ...process.env, DATABASE_URL: databaseUrl, CF_LEDGER_ARCHIVE_DIR: env.CF_LEDGER_ARCHIVE_DIR },
          })
          let out = ''
          child.stdout.on('data', (d) => (out += d))
          child.stderr.on('data', (d) => (out += d))
          child.on('close', (code) => resolve({ code, out }))
        })
      const reports = await Promise.all(servers.map((s) => verify(s.dataDir)))
      for (const [i, r] of reports.entries()) {
        assert.equal(r.code, 0, `verify on ${servers[i]!.dataDir}:\n${r.out}`)
        assert.match(r.out, /cf-ledger verify: OK: .*[1-9]\d* signed log checkpoint/)
      }
      const keys = await db.query("select count(*)::int as n from cluster_keys where purpose = 'checkpoint'")
      assert.equal(keys.rows[0].n, 1, 'one checkpoint key for the cluster')
      const leaders = await db.query('select role from leases order by role')
      assert.ok(leaders.rows.some((r) => r.role === 'checkpointer'))
    })
  })
}

for (const store of stores()) {
  describe(`cluster: the leader facility [${store}]`, { skip: store === 'embedded' ? 'the embedded store is opened by one server only (it always leads)' : false }, () => {
    it('elects one holder per role, hands over on close, and lets a restarted node take its role at once', async () => {
      const fresh = await freshStore('postgres')
      const s = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
      const logger = pino({ level: 'silent' })
      const make = (holder: string, role = 'pruner') => leaseLeader({ db: s.db, role, holder, leaseMs: 60_000, logger })
      try {
        const a = make('node-a:1')
        const b = make('node-b:1')
        const termA = await a.ensure()
        assert.ok(termA > 0)
        assert.equal(await b.ensure(), 0, 'one holder per role')
        assert.equal(await a.ensure(), termA, 'the same term while it leads')
        const other = make('node-b:1', 'checkpointer')
        assert.ok((await other.ensure()) > 0, 'roles are independent')
        await other.close()
        await a.close()
        const termB = await b.ensure()
        assert.ok(termB > termA, 'the term grows at a change of holder')
        // node-b restarts (a new instance, the old one never closed): it takes the role without waiting out the lease.
        const b2 = make('node-b:2')
        assert.ok((await b2.ensure()) > termB)
        assert.equal(await make('node-a:2').ensure(), 0)
        await b.close()
        await b2.close()
      } finally {
        await s.close()
      }
    })

    it('takes a lapsed role only after reaching the database for a whole lease of its own', async () => {
      const fresh = await freshStore('postgres')
      const s = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
      try {
        // Its holder died an hour ago; a newcomer cannot know that the database was up meanwhile.
        await sql`insert into leases (role, holder, term, expires_at) values ('pruner', 'node-z:1', 7, now() - interval '1 hour')`.execute(s.db)
        const b = leaseLeader({ db: s.db, role: 'pruner', holder: 'node-b:1', leaseMs: 400, logger: pino({ level: 'silent' }) })
        assert.equal(await b.ensure(), 0, 'not on its first look')
        await new Promise((r) => setTimeout(r, 450))
        assert.equal(await b.ensure(), 8, 'after a lease of looking')
        await b.close()
      } finally {
        await s.close()
      }
    })

    it('asks the database again only a quarter lease after its last renewal', async () => {
      const fresh = await freshStore('postgres')
      const s = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir })
      try {
        const a = leaseLeader({ db: s.db, role: 'integrator', holder: 'node-a:1', leaseMs: 800, logger: pino({ level: 'silent' }) })
        const term = await a.ensure()
        assert.ok(term > 0)
        const expires = async () => (await sql<{ e: string }>`select expires_at::text as e from leases where role = 'integrator'`.execute(s.db)).rows[0]!.e
        const first = await expires()
        // Taken from under it (no server does this: it stands for a row only the database knows about).
        await sql`update leases set holder = 'node-z:1', term = term + 1 where role = 'integrator'`.execute(s.db)
        for (let i = 0; i < 20; i++) assert.equal(await a.ensure(), term, 'within a quarter lease: no statement, the same term')
        assert.equal(await expires(), first, 'the row was not written')
        await new Promise((r) => setTimeout(r, 250))
        assert.equal(await a.ensure(), 0, 'past a quarter lease it looks, and sees the lease is gone')
        await a.close()
      } finally {
        await s.close()
      }
    })
  })
}

for (const store of stores()) {
  describe(`cluster: graceful stop [${store}]`, { skip: store === 'embedded' ? 'the embedded store is opened by one server only' : false }, () => {
    it('on SIGTERM lets a short task finish, fails a long one after the drain time, and leaves queued work to another server', async () => {
      const fresh = await freshStore('postgres')
      const env = { CF_LEDGER_LEASE_MS: String(LEASE_MS), CF_LEDGER_CLAIM_POLL_MS: '500', CF_LEDGER_TASK_CONCURRENCY: '2', CF_LEDGER_TASK_DRAIN_SECONDS: '3', CF_LEDGER_TASK_CANCEL_GRACE_MS: '1000' }
      const a = await startServer('postgres', { env: { ...env, CF_LEDGER_NODE_ID: 'node-a' }, databaseUrl: fresh.databaseUrl!, dataDir: `${fresh.dataDir}-a` })
      let b: TestServer | undefined
      const db = new pg.Client({ connectionString: fresh.databaseUrl })
      await db.connect()
      try {
        const api = await new Api(a.url).admin()
        const { spaceGuid } = await createOrgAndSpace(api, 'drain-org', 'drain-space')
        const app = await pushApp(api, spaceGuid, 'drainer')
        const create = async (command: string, name: string) => expectOk(await api.post(`/v3/apps/${app}/tasks`, { command, name }), 202).body.guid as string
        const short = await create('sleep 1', 'short')
        const long = await create('sleep 60', 'long')
        await until('both RUNNING', async () => {
          const r = await db.query<{ state: string }>('select state from tasks where guid = any($1)', [[short, long]])
          return r.rows.length === 2 && r.rows.every((t) => t.state === 'RUNNING')
        })
        const queued = await create('true', 'queued')
        const stoppedAt = Date.now()
        await a.stop('SIGTERM')
        const stopMs = Date.now() - stoppedAt
        const rows = new Map((await db.query<{ guid: string; state: string; failure_reason: string | null; owner: string | null }>('select guid, state, failure_reason, owner from tasks where guid = any($1)', [[short, long, queued]])).rows.map((r) => [r.guid, r]))
        assert.equal(rows.get(short)!.state, 'SUCCEEDED', 'a task that ends within the drain time finishes')
        assert.equal(rows.get(long)!.state, 'FAILED')
        assert.equal(rows.get(long)!.failure_reason, 'Task stopped because the server shut down')
        assert.ok(stopMs >= 2500 && stopMs < 20_000, `stopped after ${stopMs} ms (drain 3 s)`)
        assert.equal(rows.get(queued)!.state, 'PENDING', 'queued work is not failed by the stop')
        assert.equal(rows.get(queued)!.owner, null, 'and is left unclaimed for the other servers')
        b = await startServer('postgres', { env: { ...env, CF_LEDGER_NODE_ID: 'node-b' }, databaseUrl: fresh.databaseUrl!, dataDir: `${fresh.dataDir}-b` })
        const apiB = await new Api(b.url).admin()
        assert.equal((await waitForTask(apiB, queued)).state, 'SUCCEEDED')
        const owner = (await db.query<{ owner: string }>('select owner from tasks where guid = $1', [queued])).rows[0]!.owner
        assert.match(owner, /^node-b:/)
      } finally {
        await db.end()
        await b?.stop('SIGKILL')
        await a.stop('SIGKILL').catch(() => undefined)
      }
    })
  })
}

// Many servers on one PostgreSQL (docs/cluster.md), measured in one run: wall time of N `sleep 1`
// tasks on one server and on three (same slots each), claim latency (create → RUNNING) on an idle
// server and an idle cluster, dead-server detection time with the default lease, and live-log
// latency read through another server next to the same read through the owner.
//   node --import tsx bench/cluster.ts [--n 100] [--slots 4]
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp } from '../test/support/push.ts'
import { freshStore, startServer, type TestServer } from '../test/support/server.ts'
import { summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ n: '100', slots: '4' })
const N = args.num('n')
const SLOTS = args.num('slots')
const CLAIMS = 30
const LINES = 100
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const cluster = startCluster(path.join(os.tmpdir(), 'cf-ledger-bench-pg-55710'), 55710)
process.env.TEST_DATABASE_URL = cluster.url
const servers: TestServer[] = []
let db: pg.Client | undefined
try {
  const fresh = await freshStore('postgres')
  const env = { CF_LEDGER_TASK_CONCURRENCY: String(SLOTS), CF_LEDGER_TASK_SANDBOX: 'none' }
  const start = async (i: number) => (servers[i] = await startServer('postgres', { env: { ...env, CF_LEDGER_NODE_ID: `bench-${i}` }, databaseUrl: fresh.databaseUrl, dataDir: `${fresh.dataDir}-${i}` }))
  await start(0)
  db = new pg.Client({ connectionString: fresh.databaseUrl })
  await db.connect()
  const api = await new Api(servers[0]!.url).admin()
  const { spaceGuid } = await createOrgAndSpace(api, 'bench', 'bench')
  const app = await pushApp(api, spaceGuid, 'bench')
  const create = async (via: Api, command: string) => expectOk(await via.post(`/v3/apps/${app}/tasks`, { command }), 202).body.guid as string
  const states = async (guids: string[]) => (await db!.query<{ state: string }>('select state from tasks where guid = any($1)', [guids])).rows
  const allDone = async (guids: string[]) => {
    for (;;) {
      if ((await states(guids)).every((t) => t.state === 'SUCCEEDED' || t.state === 'FAILED')) return
      await sleep(20)
    }
  }

  /** Sequential `true` tasks on an idle cluster: create → RUNNING from the stored timestamps. */
  async function claimLatency(via: Api): Promise<ReturnType<typeof summarize>> {
    const guids: string[] = []
    for (let i = 0; i < CLAIMS; i++) {
      const g = await create(via, 'true')
      await allDone([g])
      guids.push(g)
    }
    const r = await db!.query<{ ms: number }>('select extract(epoch from (started_at - created_at)) * 1000 as ms from tasks where guid = any($1)', [guids])
    return summarize(r.rows.map((x) => Number(x.ms)))
  }

  /** N tasks created 8 at a time (round-robin over the servers given), until the last one ends. */
  async function wall(via: Api[]): Promise<number> {
    const t0 = Date.now()
    const guids: string[] = []
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < N; i = next++) guids.push(await create(via[i % via.length]!, 'sleep 1'))
      }),
    )
    await allDone(guids)
    return (Date.now() - t0) / 1000
  }

  const claimOne = await claimLatency(api)
  const wallOne = await wall([api])
  await Promise.all([start(1), start(2)])
  const apis = await Promise.all(servers.map((s) => new Api(s.url).admin()))
  const claimThree = await claimLatency(apis[0]!)
  const wallThree = await wall(apis)

  // Live-log latency: one line every 20 ms, followed through the owner and through another server.
  const printer = await create(apis[0]!, `sleep 1; i=0; while [ $i -lt ${LINES} ]; do echo "l$i"; i=$((i+1)); sleep 0.02; done`)
  let owner: string | null = null
  while (!owner) {
    owner = (await db.query<{ owner: string | null }>('select owner from tasks where guid = $1', [printer])).rows[0]!.owner
    if (!owner) await sleep(5)
  }
  const ownerIndex = Number(owner.split(':')[0]!.replace('bench-', ''))
  const follow = async (i: number) => {
    const res = await fetch(`${servers[i]!.url}/v3/tasks/${printer}/output?follow=true&format=ndjson`, { headers: { authorization: `bearer ${apis[i]!.token}` } })
    const lat: number[] = []
    let buf = ''
    for await (const chunk of res.body!) {
      const at = Date.now()
      buf += Buffer.from(chunk).toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { timestamp?: string; line?: string }
        buf = buf.slice(nl + 1)
        if (line.line?.startsWith('l') && line.timestamp) lat.push(at - Number(BigInt(line.timestamp) / 1_000_000n))
      }
    }
    return summarize(lat)
  }
  const [local, remote] = await Promise.all([follow(ownerIndex), follow((ownerIndex + 1) % 3)])

  // Dead-server detection with the default lease: SIGKILL the owner of a running task.
  const victimTask = await create(apis[0]!, 'sleep 600')
  let victimOwner: string | null = null
  while (!victimOwner || (await states([victimTask]))[0]!.state !== 'RUNNING') {
    victimOwner = (await db.query<{ owner: string | null }>('select owner from tasks where guid = $1', [victimTask])).rows[0]!.owner
    await sleep(10)
  }
  const victim = Number(victimOwner.split(':')[0]!.replace('bench-', ''))
  const killedAt = Date.now()
  await servers[victim]!.stop('SIGKILL')
  await allDone([victimTask])
  const detection = (Date.now() - killedAt) / 1000

  console.log(`\nCluster: ${N} \`sleep 1\` tasks, ${SLOTS} slots per server; ${CLAIMS} sequential \`true\` tasks for claim latency; ${LINES} lines for log latency\n`)
  table(
    ['measure', 'value', 'p99', 'baseline (same run)', 'ratio'],
    [
      [`wall time, ${N} x sleep 1 (s)`, wallThree, '', `1 server: ${wallOne.toFixed(2)} s`, `${(wallOne / wallThree).toFixed(2)}x faster`],
      ['claim latency create → RUNNING, p50 (ms)', claimThree.p50, claimThree.p99, `1 server: ${claimOne.p50.toFixed(2)} / ${claimOne.p99.toFixed(2)} ms`, `${(claimThree.p50 / claimOne.p50).toFixed(2)}x`],
      ['live-log latency through another server, p50 (ms)', remote.p50, remote.p99, `through the owner: ${local.p50.toFixed(2)} / ${local.p99.toFixed(2)} ms`, `+${(remote.p50 - local.p50).toFixed(0)} ms`],
      ['dead-server detection, default lease 5 s (s)', detection, '', 'lease × 1.5 = 7.5 s upper bound', ''],
    ],
  )
} finally {
  await db?.end()
  for (const s of servers) await s?.stop('SIGKILL')
  cluster.stop()
}

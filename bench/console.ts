// The web console in a real Chromium: time to an interactive task page for a task that printed
// 100k lines and to the task list over 100k task runs, next to the API calls those pages make, and
// the bytes the first page transfers (compressed). Each store in turn (the runs are seeded with SQL;
// on the embedded store with the server stopped, as PGlite is single-process).
//   node --import tsx bench/console.ts [--lines 100000] [--runs 100000] [--n 7] [--stores postgres,embedded]
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { startCluster } from '../scripts/pg-cluster.ts'
import { Api, createOrgAndSpace, expectOk } from '../test/support/client.ts'
import { pushApp, waitForTask } from '../test/support/push.ts'
import { withStore, type Query } from '../test/support/db.ts'
import {
  ADMIN_PASSWORD,
  startServer,
  type StoreKind,
  type TestServer,
} from '../test/support/server.ts'
import { ms, now, summarize, table } from './stats.ts'
import { benchArgs } from './args.ts'

const args = benchArgs({ lines: '100000', runs: '100000', n: '7', stores: 'postgres,embedded' })
const LINES = args.num('lines')
const RUNS = args.num('runs')
const N = args.num('n')
const STORES = args.list('stores') as StoreKind[]

/** Bytes on the wire (brotli, as a browser asks) for one GET. */
function wireBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
        let n = 0
        res.on('data', (d: Buffer) => (n += d.length))
        res.on('end', () => resolve(n))
      })
      .on('error', reject)
  })
}

async function timed(fn: () => Promise<unknown>, n = N) {
  await fn()
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = now()
    await fn()
    samples.push(ms(now() - t0))
  }
  return summarize(samples)
}

/** Copies one task row `count` times (new guid and sequence id, a second apart), in one statement. */
async function seedRuns(q: Query, templateGuid: string, count: number) {
  const cols = (
    await q<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'tasks' order by ordinal_position`,
    )
  ).map((r) => r.column_name)
  const expr = (c: string) =>
    c === 'guid'
      ? `gen_random_uuid()::text`
      : c === 'sequence_id'
        ? `t.sequence_id + g`
        : c === 'created_at' || c === 'updated_at' || c === 'started_at' || c === 'finished_at'
          ? `t.${c} - g * interval '1 second'`
          : c === 'state'
            ? `case when g % 10 = 0 then 'FAILED' else t.state end`
            : `t.${c}`
  await q(
    `insert into tasks (${cols.join(', ')}) select ${cols.map(expr).join(', ')} from tasks t, generate_series(1, ${count}) g where t.guid = $1`,
    [templateGuid],
  )
  await q('analyze tasks')
}

interface Load {
  readonly ms: number
  /** The page's requests as the browser timed them: path, start, first byte, end (ms since navigation). */
  readonly requests: readonly (readonly [string, number, number, number])[]
}

/**
 * Loads `url` in a fresh navigation and waits for `ready`, which returns the page's own clock
 * (performance.now(), from navigation start) once it holds, so the driver's overhead is out.
 */
async function loadOnce(page: Page, url: string, ready: () => number): Promise<Load> {
  await page.goto('about:blank')
  // Let the server finish with the previous load (an aborted output stream) before the next.
  await new Promise((r) => setTimeout(r, 300))
  await page.goto(url)
  const handle = await page.waitForFunction(ready, undefined, { timeout: 60_000, polling: 'raf' })
  const at = (await handle.jsonValue()) as number
  const requests = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => {
      const r = e as PerformanceResourceTiming
      return [
        new URL(r.name).pathname + new URL(r.name).search,
        Math.round(r.startTime),
        Math.round(r.responseStart),
        Math.round(r.responseEnd),
      ] as const
    }),
  )
  return { ms: at, requests }
}

async function timeToInteractive(page: Page, url: string, ready: () => number, n = N) {
  const samples: number[] = []
  let last: Load | undefined
  for (let i = 0; i <= n; i++) {
    last = await loadOnce(page, url, ready)
    if (i > 0) samples.push(last.ms)
  }
  return { ...summarize(samples), requests: last!.requests }
}

async function benchStore(store: StoreKind) {
  let server: TestServer = await startServer(store)
  try {
    let admin = await new Api(server.url).admin()
    const { spaceGuid } = await createOrgAndSpace(admin, 'bench', 'bench')
    const app = await pushApp(admin, spaceGuid, 'printer')
    const big = expectOk(
      await admin.post(`/v3/apps/${app}/tasks`, { command: `seq 1 ${LINES}`, name: 'printer' }),
      202,
    ).body.guid as string
    await waitForTask(admin, big, 300_000)
    const t0 = now()
    await withStore(server, (q) => seedRuns(q, big, RUNS))
    if (store === 'embedded') {
      server = await server.restart()
      admin = await new Api(server.url).admin()
    }
    console.log(`seeded ${RUNS} task runs in ${ms(now() - t0).toFixed(0)} ms`)

    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 } })
    ).newPage()
    await page.goto(`${server.url}/console`)
    await page.fill('input[name=username]', 'admin')
    await page.fill('input[name=password]', ADMIN_PASSWORD)
    await page.click('button[type=submit]')
    await page.waitForSelector('[data-testid=user]')

    const taskUrl = `${server.url}/console#/runs/${big}`
    // Interactive: the record's five answers and the first screen of output are shown.
    const taskPage = await timeToInteractive(page, taskUrl, () =>
      document.querySelector('.answers') && document.querySelectorAll('.viewer .line').length > 20
        ? performance.now()
        : 0,
    )
    const allLines = await timeToInteractive(
      page,
      taskUrl,
      () =>
        document.querySelector('[data-testid=output-status]')?.textContent?.includes('complete')
          ? performance.now()
          : 0,
      3,
    )
    const listPage = await timeToInteractive(page, `${server.url}/console#/runs`, () =>
      document.querySelectorAll('table.runs tbody tr').length === 50 ? performance.now() : 0,
    )

    const trail = await timed(() => admin.get(`/ledger/v1/tasks/${big}/trail?output_lines=0`))
    const chain = await timed(() => admin.get(`/ledger/v1/tasks/${big}/chain`))
    const output = await timed(() => admin.get(`/v3/tasks/${big}/output?format=ndjson`), 3)
    const firstByte = await timed(async () => {
      const res = await fetch(`${server.url}/v3/tasks/${big}/output?format=ndjson&follow=true`, {
        headers: { authorization: `bearer ${admin.token}` },
      })
      const reader = res.body!.getReader()
      await reader.read()
      await reader.cancel()
    })
    const list = await timed(() =>
      admin.get('/ledger/v1/tasks?per_page=50&page=1&order_by=-created_at'),
    )
    const names = await timed(() =>
      Promise.all([
        admin.get('/v3/spaces?per_page=5000&order_by=name'),
        admin.get('/v3/organizations?per_page=5000&order_by=name'),
      ]),
    )

    const html = await (await fetch(`${server.url}/console`)).text()
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map(
      (m) => m[1]!,
    )
    const sizes = await Promise.all(
      ['/console', ...assets].map(async (p) => [p, await wireBytes(server.url + p)] as const),
    )
    const total = sizes.reduce((a, [, n]) => a + n, 0)

    console.log(
      `\nConsole in Chromium (${store === 'postgres' ? 'PostgreSQL' : 'embedded'} store), median of ${N} loads after one warm-up; API calls median of ${N}\n`,
    )
    table(
      ['measure', 'p50 ms', 'max ms'],
      [
        [`task page interactive (${LINES} lines: record + first rows)`, taskPage.p50, taskPage.p99],
        [`  every line loaded`, allLines.p50, allLines.p99],
        [`  API: GET trail?output_lines=0`, trail.p50, trail.p99],
        [`  API: GET chain`, chain.p50, chain.p99],
        [`  API: GET output ndjson, first bytes`, firstByte.p50, firstByte.p99],
        [`  API: GET output ndjson (whole, ${LINES} lines)`, output.p50, output.p99],
        [`task list interactive (${RUNS + 1} runs, first 50)`, listPage.p50, listPage.p99],
        [`  API: GET /ledger/v1/tasks per_page=50`, list.p50, list.p99],
        [`  API: GET spaces + organizations`, names.p50, names.p99],
      ],
    )
    for (const [name, r] of [
      ['task page', taskPage],
      ['task list', listPage],
    ] as const) {
      console.log(
        `\nRequests of the last ${name} load (ms from navigation start: start, first byte, end)`,
      )
      for (const [p, a, b, c] of r.requests)
        console.log(
          `  ${String(a).padStart(5)} ${String(b).padStart(5)} ${String(c).padStart(5)}  ${p.length > 90 ? p.slice(0, 90) + '…' : p}`,
        )
    }
    console.log(`\nFirst page transferred (brotli): ${(total / 1024).toFixed(1)} KB`)
    for (const [p, n] of sizes) console.log(`  ${p}: ${(n / 1024).toFixed(1)} KB`)
  } finally {
    await server.stop()
  }
}

const cluster = startCluster(path.join(os.tmpdir(), 'cf-ledger-bench-pg-55711'), 55711)
process.env.TEST_DATABASE_URL = cluster.url
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
})
try {
  for (const store of STORES) await benchStore(store)
} finally {
  await browser.close()
  cluster.stop()
}

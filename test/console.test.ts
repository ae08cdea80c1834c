// The web console in a real Chromium (playwright-core driving Debian's /usr/bin/chromium) against
// a real server, one browser and one server per store shared by every case. Screenshots go to
// test-artifacts/console/ (docs/testing.md).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import crypto from 'node:crypto'
import os from 'node:os'
import { cosignerFromSeed } from '../src/ledger/cosignature.ts'
import { signerFromSeed, skeyOf, vkeyOf } from '../src/ledger/note.ts'
import { verifyProofFile } from '../src/ledger/verify-proof-cli.ts'
import { startWitness } from '../src/ledger/witness.ts'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { withStore } from './support/db.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { ADMIN_PASSWORD, startServer, stores, type TestServer } from './support/server.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SHOTS = path.resolve(import.meta.dirname, '..', 'test-artifacts', 'console')
const FIRST_COMMAND = 'echo first line; sleep 0.2; echo to-stderr >&2; sleep 0.2; echo last line'
const ORIGIN = 'ledger.test/console'
const HOSTILE_NAME = '<img src=x onerror=window.pwned=1>'
// printf: HTML, a colour sequence, a terminal-title escape (OSC … BEL) and a backspace.
const HOSTILE_COMMAND = String.raw`printf '<script>window.pwned=1</script><b>bold</b>\n\033[31mred\033[0m plain\n\033]0;title\007 and \010 done\n'`

let browser: Browser

before(async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`,
  )
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
  fs.mkdirSync(SHOTS, { recursive: true })
})
after(async () => {
  await browser?.close()
})

for (const store of stores()) {
  describe(`web console [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let dev: Api
    let auditor: Api
    let outsider: Api
    let spaceGuid: string
    const tasks: Record<string, string> = {}
    const contexts: BrowserContext[] = []
    const problems: string[] = []
    const seed = crypto.randomBytes(32)
    const logVkey = vkeyOf(signerFromSeed(ORIGIN, seed).verifier)
    const witnessDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-console-witness-'))
    let witness: Awaited<ReturnType<typeof startWitness>>

    before(async () => {
      const logKeys = [signerFromSeed(ORIGIN, seed).verifier]
      witness = await startWitness({ dir: witnessDir, name: 'witness.test/console', logKeys, host: '127.0.0.1', port: 0 })
      server = await startServer(store, {
        env: {
          CF_LEDGER_CHECKPOINT_INTERVAL: '1',
          CF_LEDGER_LOG_ORIGIN: ORIGIN,
          CF_LEDGER_LOG_KEY: skeyOf(ORIGIN, seed),
          CF_LEDGER_LOG_CHECKPOINT_INTERVAL_MS: '200',
          CF_LEDGER_WITNESSES: `${witness.vkey}=${witness.url}`,
        },
      })
      admin = await new Api(server.url).admin()
      ;({ spaceGuid } = await createOrgAndSpace(admin, 'acme', 'prod'))
      const d = await createUser(admin, 'dana', 'dana-pw')
      const a = await createUser(admin, 'audrey', 'audrey-pw')
      const orgGuid = expectOk(await admin.get(`/v3/spaces/${spaceGuid}`)).body.relationships
        .organization.data.guid
      for (const u of [d, a]) await grant(admin, 'organization_user', u.guid, { org: orgGuid })
      await grant(admin, 'space_developer', d.guid, { space: spaceGuid })
      await grant(admin, 'space_auditor', a.guid, { space: spaceGuid })
      dev = d.api
      auditor = a.api
      outsider = (await createUser(admin, 'oscar', 'oscar-pw')).api
      const billing = await pushApp(dev, spaceGuid, 'billing')
      const reports = await pushApp(admin, spaceGuid, 'reports')
      const run = async (api: Api, app: string, command: string, name: string) => {
        const t = expectOk(await api.post(`/v3/apps/${app}/tasks`, { command, name }), 202)
        await waitForTask(api, t.body.guid)
        return t.body.guid as string
      }
      tasks.first = await run(dev, billing, FIRST_COMMAND, 'report')
      tasks.hostile = await run(dev, billing, HOSTILE_COMMAND, HOSTILE_NAME)
      tasks.failing = await run(admin, reports, 'echo failing; exit 3', 'nightly')
      // The checkpoint (every second) must cover the events above for a green result.
      await new Promise((r) => setTimeout(r, 1500))
      ;(globalThis as { billing?: string }).billing = billing
    })
    after(async () => {
      for (const c of contexts) await c.close()
      await server?.stop()
      await witness?.close()
      fs.rmSync(witnessDir, { recursive: true, force: true })
    })

    async function signedIn(
      username: string,
      password: string,
      opts: { width?: number; dark?: boolean } = {},
    ): Promise<Page> {
      const context = await browser.newContext({
        viewport: { width: opts.width ?? 1280, height: 900 },
        colorScheme: opts.dark ? 'dark' : 'light',
        acceptDownloads: true,
      })
      contexts.push(context)
      const page = await context.newPage()
      page.on('console', (m) => {
        // A proof is 422 until a checkpoint covers the finished task: an answer, not an error.
        const notYetProvable = /status of 422/.test(m.text()) && m.location().url.endsWith('/proof')
        if (m.type() === 'error' && !notYetProvable) problems.push(`${username}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`${username}: ${e.message}`))
      await page.goto(`${server.url}/console`)
      await page.fill('input[name=username]', username)
      await page.fill('input[name=password]', password)
      await page.click('button[type=submit]')
      await page.waitForSelector('[data-testid=user]')
      return page
    }

    const shot = (page: Page, name: string) =>
      page.screenshot({ path: path.join(SHOTS, `${store}-${name}.png`), fullPage: false })

    async function runsShown(page: Page, hash: string): Promise<string[]> {
      await page.goto(`${server.url}/console#/runs${hash}`)
      const want = new URLSearchParams(hash.slice(1)).toString()
      await page.waitForFunction(
        (w) =>
          document.querySelector('table.runs')?.getAttribute('data-query') === w &&
          document.querySelector('table.runs')?.getAttribute('aria-busy') === 'false',
        want,
      )
      return page.$$eval('table.runs tbody a.run-link', (as) => as.map((a) => a.textContent ?? ''))
    }

    /** The task's own output lines as shown, in line order (rows are positioned, not in DOM order). */
    const lineTexts = (page: Page) =>
      page.$$eval('.viewer .line:not(.cell)', (ls) =>
        ls
          .map(
            (l) =>
              [
                Number(l.getAttribute('data-line')),
                l.querySelector('.text')?.textContent ?? '',
              ] as const,
          )
          .sort((a, b) => a[0] - b[0])
          .map((x) => x[1]),
      )

    it('serves the console with a strict Content-Security-Policy and compressed assets', async () => {
      const res = await fetch(`${server.url}/console`, { headers: { 'accept-encoding': 'gzip' } })
      assert.equal(res.status, 200)
      const csp = res.headers.get('content-security-policy') ?? ''
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /script-src 'self'(;|$)/)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
      const html = await res.text()
      assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style')
      const script = /src="(\/console\/assets\/app-[0-9a-f]+\.js)"/.exec(html)![1]!
      const js = await fetch(server.url + script, { headers: { 'accept-encoding': 'br, gzip' } })
      assert.equal(js.status, 200)
      assert.equal(js.headers.get('content-encoding'), 'br')
      assert.match(js.headers.get('cache-control') ?? '', /immutable/)
      expectOk(await admin.get('/v3/info'))
    })

    it('serves its read endpoints to readers only: chain evidence, overview and line counts', async () => {
      const chain = expectOk(await auditor.get(`/ledger/v1/tasks/${tasks.first}/chain`)).body
      assert.deepEqual(
        chain.events.map((e: { fields: { type: string } }) => e.fields.type),
        ['audit.app.task.create', 'audit.app.task.complete'],
      )
      assert.ok(!JSON.stringify(chain).includes('echo first line'), 'the evidence holds no command')
      // Written after the chain ended (decisions/0010): no chain fields; the .tlog-proof covers them.
      for (const e of chain.events) assert.deepEqual([e.prev_hash, e.hash, e.predecessor_hash], [null, null, null])
      assert.deepEqual([chain.checkpoint, chain.head.seq], [null, 0])
      const hidden = await outsider.get(`/ledger/v1/tasks/${tasks.first}/chain`)
      assert.equal(hidden.status, 404)
      assert.equal(hidden.body.errors[0].title, 'CF-ResourceNotFound')
      const sum = (o: { task_runs_per_day: { count: number }[] }) => o.task_runs_per_day.reduce((n, r) => n + r.count, 0)
      assert.equal(sum(expectOk(await admin.get('/ledger/v1/overview')).body), 3)
      assert.equal(sum(expectOk(await outsider.get('/ledger/v1/overview')).body), 0)
      const bad = await admin.get('/ledger/v1/overview?days=0')
      assert.equal(bad.status, 400)
      assert.equal(bad.body.errors[0].title, 'CF-BadQueryParameter')
      const list = expectOk(await dev.get('/ledger/v1/tasks?app_names=billing&order_by=created_at')).body
      assert.deepEqual(list.resources[0].output, { out_lines: 2, err_lines: 1 })
    })

    it('signs in as admin, finds tasks by actor, app and exact command, and keeps the filters in the URL', async () => {
      const page = await signedIn('admin', ADMIN_PASSWORD)
      assert.equal((await runsShown(page, '')).length, 3)
      await shot(page, 'runs-1280-light')
      assert.deepEqual(
        (await runsShown(page, '?actor=dana')).sort(),
        [`${HOSTILE_NAME} #2`, 'report #1'].sort(),
      )
      assert.deepEqual(await runsShown(page, '?app=reports'), ['nightly #1'])
      // Typed into the form: the URL then holds the filter.
      await page.goto(`${server.url}/console#/runs`)
      await page.fill('input[name=command]', FIRST_COMMAND)
      await page.click('form.filters button[type=submit]')
      await page.waitForFunction(() => location.hash.includes('command='))
      // The table shows the answer to this query (not the previous one) once data-query says so.
      await page.waitForFunction(() => {
        const t = document.querySelector('table.runs')
        return !!t?.getAttribute('data-query')?.includes('command=') && t.getAttribute('aria-busy') === 'false'
      })
      assert.deepEqual(
        await page.$$eval('table.runs tbody a.run-link', (as) => as.map((a) => a.textContent)),
        ['report #1'],
      )
      assert.equal(
        new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('command'),
        FIRST_COMMAND,
      )
      // Sorting is in the URL too: oldest first.
      await runsShown(page, '')
      await page.click('button[aria-label="sort by Started"]')
      await page.waitForFunction(() => location.hash.includes('order=created_at'))
      assert.deepEqual((await runsShown(page, '?order=created_at'))[0], 'report #1')
      // The token is in sessionStorage only: not in the URL, not in localStorage.
      const stored = await page.evaluate(() => ({
        local: JSON.stringify(localStorage),
        session: JSON.stringify(sessionStorage),
        url: location.href,
      }))
      assert.match(stored.session, /accessToken/)
      assert.doesNotMatch(stored.local, /Token|eyJ/)
      assert.doesNotMatch(stored.url, /eyJ/)
    })

    it('refreshes an expiring token and signs out', async () => {
      const page = await signedIn('dana', 'dana-pw')
      const before = await page.evaluate(() =>
        JSON.parse(sessionStorage.getItem('cf-ledger-console-session')!),
      )
      await page.evaluate(() => {
        const s = JSON.parse(sessionStorage.getItem('cf-ledger-console-session')!)
        sessionStorage.setItem(
          'cf-ledger-console-session',
          JSON.stringify({ ...s, expiresAt: Date.now() }),
        )
      })
      await page.reload()
      assert.equal((await runsShown(page, '?app=billing')).length, 2)
      const after = await page.evaluate(() =>
        JSON.parse(sessionStorage.getItem('cf-ledger-console-session')!),
      )
      assert.notEqual(after.accessToken, before.accessToken, 'a new access token')
      assert.ok(after.expiresAt > Date.now() + 60_000)
      await page.click('text=Sign out')
      await page.waitForSelector('form.signin')
      assert.equal(await page.evaluate(() => sessionStorage.length), 0)
      await page.goto(`${server.url}/console#/runs`)
      await page.waitForSelector('form.signin')
    })

    it('opens a task run and shows all five answers, its events and a green integrity check', async () => {
      const page = await signedIn('admin', ADMIN_PASSWORD)
      await page.goto(`${server.url}/console#/runs/${tasks.first}`)
      await page.waitForSelector('[data-testid=integrity][data-verdict=ok]', { timeout: 15_000 })
      const text = await page.innerText('main')
      for (const want of [
        'dana',
        'uaa',
        'cf',
        '127.0.0.1',
        FIRST_COMMAND,
        'hmac-sha256:',
        'billing',
        'prod',
        'acme',
        '2 stdout + 1 stderr',
        'SUCCEEDED',
        'audit.app.task.create',
        'audit.app.task.complete',
        'Verified (C2SP tlog-proof)',
        'inclusion proof',
        'the page shows the proven task run',
        'leaf hash recomputed',
        'trusting the key the server serves',
      ]) {
        assert.ok(text.includes(want), `the task page shows ${want}`)
      }
      assert.match(text, /duration\s+\d/)
      await page.waitForFunction(
        () => document.querySelectorAll('.viewer .line:not(.cell)').length === 4,
      )
      assert.deepEqual(await lineTexts(page), [
        'first line',
        'to-stderr',
        'last line',
        'Exit status 0',
      ])
      assert.equal(await page.$$eval('.viewer .line.err', (ls) => ls.length), 1)
      await page.fill('input[aria-label="search the output"]', 'last')
      await page.press('input[aria-label="search the output"]', 'Enter')
      await page.waitForSelector('.viewer .line.match .text:text-is("last line")')
      await shot(page, 'run-1280-light')
      await page.setViewportSize({ width: 390, height: 844 })
      await shot(page, 'run-390-light')
    })

    it('shows HTML, escape sequences and control characters in output and names as text', async () => {
      const page = await signedIn('dana', 'dana-pw', { dark: true })
      await page.goto(`${server.url}/console#/runs/${tasks.hostile}`)
      await page.waitForFunction(
        () => document.querySelectorAll('.viewer .line:not(.cell)').length === 4,
      )
      const lines = await lineTexts(page)
      assert.deepEqual(lines, [
        '<script>window.pwned=1</script><b>bold</b>',
        'red plain',
        '\u241b]0;title\u2407 and \u2408 done',
        'Exit status 0',
      ])
      assert.equal(
        await page.$$eval('.viewer .line .ansi-fg-1', (s) => s.map((x) => x.textContent).join()),
        'red',
      )
      assert.equal(await page.$$eval('main script, main b, main img', (xs) => xs.length), 0)
      assert.ok((await page.innerText('h1')).includes(HOSTILE_NAME))
      assert.equal(await page.evaluate(() => (window as { pwned?: number }).pwned), undefined)
      await shot(page, 'hostile-1280-dark')
    })

    it('follows a running task live and ends with its final state', async () => {
      const billing = (globalThis as { billing?: string }).billing!
      const t = expectOk(
        await dev.post(`/v3/apps/${billing}/tasks`, {
          command: 'for i in $(seq 1 20); do echo tick $i; sleep 0.25; done',
          name: 'ticker',
        }),
        202,
      )
      const page = await signedIn('dana', 'dana-pw')
      await page.goto(`${server.url}/console#/runs/${t.body.guid}`)
      await page.waitForSelector('text=following live', { timeout: 15_000 })
      await page.waitForFunction(() =>
        [...document.querySelectorAll('.viewer .line .text')].some(
          (l) => l.textContent === 'tick 3',
        ),
      )
      const early = await page.$$eval('.viewer .line', (ls) => ls.length)
      assert.ok(early < 20, `the page showed lines while the task ran (${early})`)
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.viewer .line .text')].some(
            (l) => l.textContent === 'tick 20',
          ),
        undefined,
        { timeout: 30_000 },
      )
      await page.waitForSelector('.run-head .state-succeeded', { timeout: 15_000 })
      await waitForTask(dev, t.body.guid)
    })

    it('shows a space auditor the fingerprint but never the command', async () => {
      const page = await signedIn('audrey', 'audrey-pw')
      const shown = await runsShown(page, '')
      assert.ok(shown.includes('report #1'))
      const listText = await page.innerText('table.runs')
      assert.ok(!listText.includes('first line;'), 'no command in the list')
      assert.match(listText, /hmac-sha256:/)
      // Exact-command search works without seeing the command.
      assert.deepEqual(await runsShown(page, `?command=${encodeURIComponent(FIRST_COMMAND)}`), [
        'report #1',
      ])
      await page.goto(`${server.url}/console#/runs/${tasks.first}`)
      await page.waitForSelector('[data-testid=fingerprint]')
      const text = await page.innerText('main')
      assert.ok(!text.includes(FIRST_COMMAND), 'the auditor never sees the command')
      assert.ok(text.includes('[PRIVATE DATA HIDDEN]'))
      const fp = await page.innerText('[data-testid=fingerprint]')
      const trail = expectOk(await admin.get(`/ledger/v1/tasks/${tasks.first}/trail`)).body
      assert.equal(fp, trail.command_fingerprint)
      assert.equal(
        await page.$$eval('button.danger', (b) => b.length),
        0,
        'an auditor cannot cancel',
      )
      await page.waitForSelector('[data-testid=integrity][data-verdict=ok]', { timeout: 15_000 })
    })

    it('checks the tlog-proof under pinned log and witness keys and downloads the .tlog-proof', async () => {
      const page = await signedIn('audrey', 'audrey-pw')
      await page.goto(`${server.url}/console#/keys`)
      for (const vkey of [logVkey, witness.vkey]) {
        await page.fill('textarea[name=key]', vkey)
        await page.click('form.card button[type=submit]')
        await page.waitForSelector(`.keys code:text-is("${vkey.split('+').slice(0, 2).join('+')}")`)
      }
      await page.goto(`${server.url}/console#/runs/${tasks.failing}`)
      await page.waitForSelector('[data-testid=integrity][data-verdict=ok]', { timeout: 15_000 })
      const text = await page.innerText('[data-testid=integrity]')
      assert.match(text, /log key: .*is pinned in this browser/)
      assert.match(text, /cosigned by witness witness\.test\/console: cosignature v1 verifies/)
      assert.match(text, /checkpoint signature: Ed25519 note signature by ledger\.test\/console/)
      await shot(page, 'integrity-pinned-1280-light')
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download .tlog-proof')])
      assert.equal(download.suggestedFilename(), `task-${tasks.failing}.tlog-proof`)
      const file = fs.readFileSync((await download.path())!)
      const proven = verifyProofFile(file, { key: [logVkey], witness: [witness.vkey], task: tasks.failing })
      assert.equal(proven.entry.exit_status, 3)
      assert.deepEqual(proven.cosigners, ['witness.test/console'])
      // A pinned witness that did not cosign turns the check red.
      await page.goto(`${server.url}/console#/keys`)
      await page.fill('textarea[name=key]', vkeyOf(cosignerFromSeed('witness.test/other', crypto.randomBytes(32)).verifier))
      await page.click('form.card button[type=submit]')
      await page.waitForSelector('.keys code:text-matches("^witness.test/other")')
      await page.goto(`${server.url}/console#/runs/${tasks.failing}`)
      await page.waitForSelector('[data-testid=integrity][data-verdict=bad]', { timeout: 15_000 })
      assert.match(await page.innerText('[data-testid=integrity]'), /witness\.test\/other: this pinned witness did not cosign/)
    })

    it('lists audit events with filters and links task events to their run', async () => {
      const page = await signedIn('admin', ADMIN_PASSWORD, { width: 390, dark: true })
      await page.goto(`${server.url}/console#/events?types=audit.app.task.create`)
      await page.waitForFunction(
        () =>
          document.querySelector('table.events')?.getAttribute('data-query') ===
          'types=audit.app.task.create',
      )
      const types = await page.$$eval('table.events tbody tr td:nth-child(2)', (ts) =>
        ts.map((t) => t.textContent),
      )
      assert.ok(
        types.length >= 3 && types.every((t) => t === 'audit.app.task.create'),
        JSON.stringify(types),
      )
      await shot(page, 'events-390-dark')
      // The actor filter, typed into the form (an extension filter of /v3/audit_events).
      await page.fill('input[name=actor]', 'dana')
      await page.click('form.filters button[type=submit]')
      await page.waitForFunction(() =>
        document.querySelector('table.events')?.getAttribute('data-query')?.includes('actor=dana'),
      )
      const actors = await page.$$eval('table.events tbody tr td:nth-child(3)', (ts) =>
        ts.map((t) => t.firstChild?.textContent),
      )
      const byApi = expectOk(await admin.get('/v3/audit_events?types=audit.app.task.create&actor_usernames=dana')).body
      const danaGuid = byApi.resources[0].actor.guid
      assert.ok(actors.length >= 2 && actors.every((a) => a === 'dana@example.com'), JSON.stringify(actors))
      assert.equal(actors.length, byApi.pagination.total_results)
      const byGuid = expectOk(await admin.get(`/v3/audit_events?types=audit.app.task.create&actor_guids=${danaGuid}`)).body
      assert.equal(byGuid.pagination.total_results, actors.length)
      assert.equal(expectOk(await admin.get('/v3/audit_events?actor_usernames=nobody')).body.pagination.total_results, 0)
      await page.click('table.events tbody tr a:text("Task run →")')
      await page.waitForSelector('.answers')
      assert.match(page.url(), /#\/runs\/[0-9a-f-]{36}$/)
    })

    it('renders the overview with data', async () => {
      const page = await signedIn('admin', ADMIN_PASSWORD, { dark: true })
      await page.goto(`${server.url}/console#/overview`)
      await page.waitForSelector('[data-testid=runs-total]')
      assert.equal(await page.innerText('[data-testid=runs-total]'), '4')
      assert.ok(Number((await page.innerText('[data-testid=ledger-size]')).replace(/,/g, '')) > 10)
      assert.ok((await page.$$('svg rect.bar.state-succeeded')).length >= 1)
      assert.ok((await page.$$('svg rect.bar.state-failed')).length >= 1)
      assert.deepEqual(
        await page
          .$$eval('.hbars a', (as) => as.map((a) => a.textContent))
          .then((xs) => xs.includes('reports') && xs.includes('dana')),
        true,
      )
      await shot(page, 'overview-1280-dark')
      const light = await signedIn('admin', ADMIN_PASSWORD, { width: 390 })
      await light.goto(`${server.url}/console#/overview`)
      await light.waitForSelector('[data-testid=runs-total]')
      await shot(light, 'overview-390-light')
    })

    it('shows red once a ledger row is edited in the database', async () => {
      await withStore(server, (q) =>
        q(
          `update events set actor_name = 'mallory' where type = 'audit.app.task.create' and metadata ->> 'task_guid' = $1`,
          [tasks.first],
        ),
      )
      await withStore(server, (q) => q(`update tasks set exit_status = 0 where guid = $1`, [tasks.failing]))
      if (store === 'embedded') server = await server.restart()
      const page = await signedIn('admin', ADMIN_PASSWORD)
      await page.goto(`${server.url}/console#/runs/${tasks.first}`)
      await page.waitForSelector('[data-testid=integrity][data-verdict=bad]', { timeout: 15_000 })
      const text = await page.innerText('[data-testid=integrity]')
      assert.match(text, /NOT verified/)
      assert.match(text, /event was edited/)
      await shot(page, 'integrity-red-1280-light')
      await page.goto(`${server.url}/console#/runs/${tasks.failing}`)
      await page.waitForSelector('[data-testid=integrity][data-verdict=bad]', { timeout: 15_000 })
      assert.match(await page.innerText('[data-testid=integrity]'), /shown exit status differ from the proven entry: the task's row was edited/)
      assert.deepEqual(problems, [], 'no script errors or CSP violations in any page')
    })
  })
}

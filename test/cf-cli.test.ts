// The real cf CLI (v8) against the server, following /work/shared/refs/cf-cli-contract.md: the
// requests cf sends and the lines it prints. Runs only when a `cf` binary is on PATH or CF_CLI
// points at one; otherwise every test is skipped with the reason. Each test uses its own CF_HOME.
// Lines the contract names are asserted exactly; for commands the contract does not cover
// (create-org, create-space, set-org-role, org-users, space-users, delete-space) the test asserts
// the exit code, `OK`, and the effect through the API.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { ADMIN_PASSWORD, startServer, stores, type TestServer } from './support/server.ts'

const NOT_INSTALLABLE =
  'cf CLI not installable here: go install code.cloudfoundry.org/cli/v8@v8.18.4 → 403 Forbidden from the Go module proxy'

function findCf(): string | undefined {
  const candidates = process.env.CF_CLI
    ? [process.env.CF_CLI]
    : (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'cf'))
  return candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK)
      return fs.statSync(c).isFile()
    } catch {
      return false
    }
  })
}

const CF = findCf()
const skip = CF ? false : NOT_INSTALLABLE

interface CfRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Every line of the output, without trailing whitespace. */
const lines = (out: string) => out.split('\n').map((l) => l.trimEnd())

/** Asserts that the output has a line equal to (or matching) each of `expected`, in that order. */
function assertLines(out: string, expected: (string | RegExp)[]): void {
  const all = lines(out)
  let from = 0
  for (const e of expected) {
    const i = all.findIndex((l, j) => j >= from && (typeof e === 'string' ? l === e : e.test(l)))
    assert.ok(i >= 0, `expected a line ${e} after line ${from} in:\n${out}`)
    from = i + 1
  }
}

/** The indented lines under a heading such as `ORG MANAGER`, up to the next blank line. */
function section(out: string, heading: string): string[] {
  const all = lines(out)
  const start = all.indexOf(heading)
  assert.ok(start >= 0, `no section ${heading} in:\n${out}`)
  const end = all.findIndex((l, j) => j > start && l.trim() === '')
  return all.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim())
}

/** `cf` with its own CF_HOME; commands run in an empty working directory (no manifest.yml). */
class CfSession {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-home-'))
  readonly cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-cwd-'))

  run(...args: string[]): Promise<CfRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(CF!, args, {
        cwd: this.cwd,
        env: {
          PATH: process.env.PATH,
          HOME: this.home,
          CF_HOME: this.home,
          CF_COLOR: 'false',
          TZ: 'UTC',
          LANG: 'C',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
  }

  /** Runs a command that must succeed (exit 0). */
  async ok(...args: string[]): Promise<CfRun> {
    const r = await this.run(...args)
    assert.equal(r.code, 0, `cf ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
    return r
  }

  dispose(): void {
    fs.rmSync(this.home, { recursive: true, force: true })
    fs.rmSync(this.cwd, { recursive: true, force: true })
  }
}

for (const store of stores()) {
  describe(`cf CLI v8 [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let orgGuid: string
    let spaceGuid: string
    let dev: Api
    const sessions: CfSession[] = []
    const ORG = 'cli-org'
    const SPACE = 'cli-space'
    const APP = 'cli-worker'

    /** A fresh CF_HOME that has run `cf api`, `cf auth` and, with `target`, `cf target -o -s`. */
    async function session(user: string, password: string, target = true): Promise<CfSession> {
      const s = new CfSession()
      sessions.push(s)
      await s.ok('api', server.url)
      await s.ok('auth', user, password)
      if (target) await s.ok('target', '-o', ORG, '-s', SPACE)
      return s
    }

    let pushed: Promise<string> | undefined
    /** An app with a droplet holding run.sh (echoes $1, exits $2), pushed over HTTP. */
    const taskApp = () =>
      (pushed ??= pushApp(dev, spaceGuid, APP, {
        'run.sh': { content: '#!/bin/sh\necho "ran $1"\nexit "${2:-0}"\n', mode: 0o755 },
      }))

    before(async () => {
      if (!CF) return
      server = await startServer(store, { env: { CF_LEDGER_TASK_CANCEL_GRACE_MS: '200' } })
      admin = await new Api(server.url).admin()
      ;({ orgGuid, spaceGuid } = await createOrgAndSpace(admin, ORG, SPACE))
      for (const [name, role] of [
        ['cli-dev', 'space_developer'],
        ['cli-auditor', 'space_auditor'],
      ] as const) {
        const u = await createUser(admin, name)
        await grant(admin, 'organization_user', u.guid, { org: orgGuid })
        await grant(admin, role, u.guid, { space: spaceGuid })
        if (name === 'cli-dev') dev = u.api
      }
    })
    after(async () => {
      for (const s of sessions) s.dispose()
      await server?.stop()
    })

    it('cf api: sets the endpoint and shows the API version', { skip }, async () => {
      const s = new CfSession()
      sessions.push(s)
      const r = await s.ok('api', server.url)
      assertLines(r.stdout, [
        `Setting API endpoint to ${server.url}...`,
        'OK',
        new RegExp(`^API endpoint:\\s+${server.url}$`),
        /^API version:\s+3\.\d+\.\d+$/,
        "Not logged in. Use 'cf login' or 'cf login --sso' to log in.",
      ])
      assert.match(
        r.stdout + r.stderr,
        /Warning: Insecure http API endpoint detected: secure https API endpoints are recommended/,
      )
    })

    it('cf auth admin: authenticates with the password grant', { skip }, async () => {
      const s = new CfSession()
      sessions.push(s)
      await s.ok('api', server.url)
      const r = await s.ok('auth', 'admin', ADMIN_PASSWORD)
      assertLines(r.stdout, [
        new RegExp(`^API endpoint:\\s+${server.url}$`),
        'Authenticating...',
        'OK',
        "Use 'cf target' to view or set your target org and space.",
      ])
      const bad = await s.run('auth', 'admin', 'wrong-password')
      assert.equal(bad.code, 1)
      assert.match(bad.stdout + bad.stderr, /Credentials were rejected, please try again\./)
    })

    it('cf login -u -p -o -s: logs in and targets the org and space', { skip }, async () => {
      const s = new CfSession()
      sessions.push(s)
      const r = await s.ok(
        'login',
        '-a',
        server.url,
        '-u',
        'admin',
        '-p',
        ADMIN_PASSWORD,
        '-o',
        ORG,
        '-s',
        SPACE,
      )
      assertLines(r.stdout, [
        new RegExp(`^API endpoint:\\s+${server.url}$`),
        'Authenticating...',
        'OK',
        `Targeted org ${ORG}.`,
        `Targeted space ${SPACE}.`,
        new RegExp(`^API endpoint:\\s+${server.url}$`),
        /^API version:\s+3\.\d+\.\d+$/,
        /^user:\s+admin$/,
        new RegExp(`^org:\\s+${ORG}$`),
        new RegExp(`^space:\\s+${SPACE}$`),
      ])
    })

    it('cf create-org and cf orgs', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD, false)
      const created = await s.ok('create-org', 'cli-org-2')
      assertLines(created.stdout, ['OK'])
      const found = expectOk(await admin.get('/v3/organizations?names=cli-org-2'))
      assert.equal(found.body.resources.length, 1)
      const r = await s.ok('orgs')
      assertLines(r.stdout, ['Getting orgs as admin...', '', /^name$/, ORG, 'cli-org-2'])
    })

    it('cf create-space and cf spaces', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD, false)
      await s.ok('target', '-o', ORG)
      const created = await s.ok('create-space', 'cli-space-2')
      assertLines(created.stdout, ['OK'])
      const found = expectOk(
        await admin.get(`/v3/spaces?names=cli-space-2&organization_guids=${orgGuid}`),
      )
      assert.equal(found.body.resources.length, 1)
      const r = await s.ok('spaces')
      assertLines(r.stdout, [
        `Getting spaces in org ${ORG} as admin...`,
        '',
        /^name$/,
        SPACE,
        'cli-space-2',
      ])
    })

    it('cf target -o -s', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD, false)
      const r = await s.ok('target', '-o', ORG, '-s', SPACE)
      assertLines(r.stdout, [
        new RegExp(`^API endpoint:\\s+${server.url}$`),
        /^API version:\s+3\.\d+\.\d+$/,
        /^user:\s+admin$/,
        new RegExp(`^org:\\s+${ORG}$`),
        new RegExp(`^space:\\s+${SPACE}$`),
      ])
      const missing = await s.run('target', '-o', 'no-such-org')
      assert.equal(missing.code, 1)
      assert.match(missing.stdout + missing.stderr, /Organization 'no-such-org' not found\./)
    })

    it(
      'cf create-user, set-org-role, set-space-role, org-users, space-users, then auth as that user',
      { skip },
      async () => {
        const s = await session('admin', ADMIN_PASSWORD, false)
        const created = await s.ok('create-user', 'cli-new', 'pw-cli-new')
        assertLines(created.stdout, [
          'Creating user cli-new...',
          'OK',
          "TIP: Assign roles with 'cf set-org-role' and 'cf set-space-role'.",
        ])
        const again = await s.ok('create-user', 'cli-new', 'pw-cli-new')
        assert.match(again.stdout + again.stderr, /User 'cli-new' already exists\./)

        assertLines((await s.ok('set-org-role', 'cli-new', ORG, 'OrgAuditor')).stdout, ['OK'])
        const spaceRole = await s.ok('set-space-role', 'cli-new', ORG, SPACE, 'SpaceDeveloper')
        assertLines(spaceRole.stdout, [
          `Assigning role SpaceDeveloper to user cli-new in org ${ORG} / space ${SPACE} as admin...`,
          'OK',
        ])

        const orgUsers = await s.ok('org-users', ORG)
        assert.ok(
          section(orgUsers.stdout, 'ORG AUDITOR').some((l) => /^cli-new\b/.test(l)),
          orgUsers.stdout,
        )
        const spaceUsers = await s.ok('space-users', ORG, SPACE)
        const developers = section(spaceUsers.stdout, 'SPACE DEVELOPER')
        for (const u of ['cli-new', 'cli-dev'])
          assert.ok(
            developers.some((l) => new RegExp(`^${u}\\b`).test(l)),
            spaceUsers.stdout,
          )
        assert.ok(
          section(spaceUsers.stdout, 'SPACE AUDITOR').some((l) => /^cli-auditor\b/.test(l)),
          spaceUsers.stdout,
        )

        const user = await session('cli-new', 'pw-cli-new', false)
        const target = await user.ok('target', '-o', ORG, '-s', SPACE)
        assertLines(target.stdout, [
          /^user:\s+cli-new$/,
          new RegExp(`^org:\\s+${ORG}$`),
          new RegExp(`^space:\\s+${SPACE}$`),
        ])
        const roles = expectOk(
          await admin.get(`/v3/roles?types=organization_auditor,space_developer&include=user`),
        )
        const types = roles.body.resources
          .filter((r: { relationships: { user: { data: { guid: string } } } }) =>
            roles.body.included.users.some(
              (u: { guid: string; username: string }) =>
                u.guid === r.relationships.user.data.guid && u.username === 'cli-new',
            ),
          )
          .map((r: { type: string }) => r.type)
          .sort()
        assert.deepEqual(types, ['organization_auditor', 'space_developer'])
      },
    )

    it('cf delete-space -f', { skip }, async () => {
      const doomed = expectOk(
        await admin.post('/v3/spaces', {
          name: 'cli-doomed',
          relationships: { organization: { data: { guid: orgGuid } } },
        }),
        201,
      )
      const s = await session('admin', ADMIN_PASSWORD, false)
      await s.ok('target', '-o', ORG)
      const r = await s.ok('delete-space', 'cli-doomed', '-f')
      assertLines(r.stdout, ['OK'])
      assert.equal((await admin.get(`/v3/spaces/${doomed.body.guid}`)).status, 404)
    })

    it('cf push APP --task -p DIR: uploads, stages and sets the droplet', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-app-'))
      fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho pushed\n', { mode: 0o755 })
      try {
        const r = await s.ok('push', 'cli-pushed', '--task', '-p', dir)
        assertLines(r.stdout, [
          `Pushing app cli-pushed to org ${ORG} / space ${SPACE} as cli-dev...`,
          /^Packaging files to upload\.\.\./,
          /^Uploading files\.\.\./,
          /^Waiting for API to complete processing files\.\.\./,
          /^Staging app and tracing logs\.\.\./,
          /^name:\s+cli-pushed$/,
          /^requested state:\s+stopped$/,
        ])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
      const app = expectOk(await dev.get(`/v3/apps?names=cli-pushed&space_guids=${spaceGuid}`)).body
        .resources[0]
      const droplet = expectOk(await dev.get(`/v3/apps/${app.guid}/droplets/current`))
      assert.equal(droplet.body.state, 'STAGED')
      const task = expectOk(
        await dev.post(`/v3/apps/${app.guid}/tasks`, { command: './run.sh' }),
        202,
      )
      assert.equal((await waitForTask(dev, task.body.guid)).state, 'SUCCEEDED')
    })

    it('cf set-env and cf env', { skip }, async () => {
      await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      const set = await s.ok('set-env', APP, 'GREETING', 'hello from cf')
      assertLines(set.stdout, [
        `Setting env variable GREETING for app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
        'OK',
        `TIP: Use 'cf restage ${APP}' to ensure your env variable changes take effect.`,
      ])
      const env = await s.ok('env', APP)
      assertLines(env.stdout, [
        'System-Provided:',
        /^VCAP_APPLICATION: \{/,
        'User-Provided:',
        'GREETING: hello from cf',
        'No running env variables have been set',
        'No staging env variables have been set',
      ])
    })

    it('cf run-task --command --name: submits the task', { skip }, async () => {
      const appGuid = await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      const r = await s.ok('run-task', APP, '--command', './run.sh hello 0', '--name', 'hello')
      assertLines(r.stdout, [
        `Creating task for app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
        'Task has been submitted successfully for execution.',
        'OK',
        /^task name:\s+hello$/,
        /^task id:\s+\d+$/,
      ])
      const seq = /^task id:\s+(\d+)$/m.exec(r.stdout)![1]
      const t = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?sequence_ids=${seq}`)).body
        .resources[0]
      assert.equal(t.name, 'hello')
      assert.equal((await waitForTask(dev, t.guid)).state, 'SUCCEEDED')
    })

    it('cf run-task --wait: exit 0 when the task succeeds', { skip }, async () => {
      await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      const r = await s.ok(
        'run-task',
        APP,
        '--command',
        './run.sh ok 0',
        '--name',
        'wait-ok',
        '--wait',
      )
      assertLines(r.stdout, [
        'Task has been submitted successfully for execution.',
        'OK',
        /^task name:\s+wait-ok$/,
        'Waiting for task to complete execution...',
        'Task has completed successfully.',
        'OK',
      ])
    })

    it('cf run-task --wait: exit 1 when the task fails', { skip }, async () => {
      await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      const r = await s.run(
        'run-task',
        APP,
        '--command',
        './run.sh bad 3',
        '--name',
        'wait-bad',
        '--wait',
      )
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`)
      assertLines(r.stdout, [
        'Task has been submitted successfully for execution.',
        'Waiting for task to complete execution...',
        'FAILED',
      ])
      assert.match(r.stdout + r.stderr, /Task failed to complete successfully/)
    })

    it(
      'cf tasks: newest first with the command for a developer, [hidden] for an auditor',
      { skip },
      async () => {
        await taskApp()
        const s = await session('cli-dev', 'pw-cli-dev')
        await s.ok('run-task', APP, '--command', './run.sh listed 0', '--name', 'listed', '--wait')
        const r = await s.ok('tasks', APP)
        const start = '\\w{3}, \\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d UTC'
        assertLines(r.stdout, [
          `Getting tasks for app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
          '',
          /^id\s+name\s+state\s+start time\s+command$/,
          new RegExp(`^\\d+\\s+listed\\s+SUCCEEDED\\s+${start}\\s+\\./run\\.sh listed 0$`),
        ])
        const ids = lines(r.stdout)
          .map((l) => /^(\d+)\s/.exec(l)?.[1])
          .filter((x): x is string => x !== undefined)
          .map(Number)
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => b - a),
        )

        const auditor = await session('cli-auditor', 'pw-cli-auditor')
        const hidden = await auditor.ok('tasks', APP)
        assertLines(hidden.stdout, [
          new RegExp(`^\\d+\\s+listed\\s+SUCCEEDED\\s+${start}\\s+\\[hidden\\]$`),
        ])
      },
    )

    it('cf terminate-task: cancels a running task', { skip }, async () => {
      const appGuid = await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      const started = await s.ok('run-task', APP, '--command', 'sleep 300', '--name', 'sleeper')
      const seq = /^task id:\s+(\d+)$/m.exec(started.stdout)![1]!
      const t = expectOk(await dev.get(`/v3/apps/${appGuid}/tasks?sequence_ids=${seq}`)).body
        .resources[0]
      const r = await s.ok('terminate-task', APP, seq)
      assertLines(r.stdout, [
        `Terminating task ${seq} of app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
        'OK',
      ])
      const done = await waitForTask(dev, t.guid)
      assert.equal(done.state, 'FAILED')
      assert.equal(done.result.failure_reason, 'task was cancelled')
    })

    it('cf events APP: task events with the censored command', { skip }, async () => {
      await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      await s.ok('run-task', APP, '--command', './run.sh evented 0', '--name', 'evented', '--wait')
      const r = await s.ok('events', APP)
      const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\+0000'
      assertLines(r.stdout, [
        `Getting events for app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
        /^time\s+event\s+actor\s+description$/,
      ])
      // Newest first: the completion (a cf-ledger extension event) above the creation. The actor
      // column is actor.name, which is the email (CC's actor_name), not the username.
      assertLines(r.stdout, [
        new RegExp(
          `^${time}\\s+audit\\.app\\.task\\.complete\\s+cli-dev@example\\.com\\s+exit_status: 0, state: SUCCEEDED$`,
        ),
        new RegExp(
          `^${time}\\s+audit\\.app\\.task\\.create\\s+cli-dev@example\\.com\\s+command: \\[PRIVATE DATA HIDDEN\\]$`,
        ),
      ])
    })

    it(
      'cf curl /v3/tasks/GUID: the command is shown to a developer and hidden from an auditor',
      { skip },
      async () => {
        const appGuid = await taskApp()
        const t = expectOk(
          await dev.post(`/v3/apps/${appGuid}/tasks`, {
            command: './run.sh curl 0',
            name: 'curled',
          }),
          202,
        )
        await waitForTask(dev, t.body.guid)
        const s = await session('cli-dev', 'pw-cli-dev')
        const shown = JSON.parse((await s.ok('curl', `/v3/tasks/${t.body.guid}`)).stdout)
        assert.equal(shown.guid, t.body.guid)
        assert.equal(shown.command, './run.sh curl 0')
        const auditor = await session('cli-auditor', 'pw-cli-auditor')
        const hidden = JSON.parse((await auditor.ok('curl', `/v3/tasks/${t.body.guid}`)).stdout)
        assert.equal(hidden.guid, t.body.guid)
        assert.equal('command' in hidden, false)
      },
    )

    it('cf curl "/v2/events?q=type:audit.app.task.create"', { skip }, async () => {
      const appGuid = await taskApp()
      const t = expectOk(
        await dev.post(`/v3/apps/${appGuid}/tasks`, { command: 'true', name: 'v2-evented' }),
        202,
      )
      await waitForTask(dev, t.body.guid)
      const s = await session('cli-dev', 'pw-cli-dev')
      const body = JSON.parse(
        (await s.ok('curl', '/v2/events?q=type:audit.app.task.create')).stdout,
      )
      assert.ok(body.total_results >= 1, JSON.stringify(body))
      assert.ok(
        body.resources.every(
          (e: { entity: { type: string } }) => e.entity.type === 'audit.app.task.create',
        ),
      )
      const mine = body.resources.find(
        (e: { entity: { metadata: { task_guid?: string } } }) =>
          e.entity.metadata.task_guid === t.body.guid,
      )
      assert.ok(mine, `no v2 event for task ${t.body.guid}`)
      assert.equal(mine.entity.actee, appGuid)
      assert.equal(mine.entity.actor_username, 'cli-dev')
      assert.equal(mine.entity.metadata.request.command, '[PRIVATE DATA HIDDEN]')
    })

    it("cf logs --recent: the task's output lines", { skip }, async () => {
      await taskApp()
      const s = await session('cli-dev', 'pw-cli-dev')
      await s.ok(
        'run-task',
        APP,
        '--command',
        './run.sh logged-line 0',
        '--name',
        'logged',
        '--wait',
      )
      const r = await s.ok('logs', APP, '--recent')
      assertLines(r.stdout, [
        `Retrieving logs for app ${APP} in org ${ORG} / space ${SPACE} as cli-dev...`,
        '',
        /^ {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\+0000 \[APP\/TASK\/logged\/0\] OUT ran logged-line$/,
      ])
    })
  })
}

// The real cf CLI (v8) against the server, following /work/shared/refs/cf-cli-contract.md: the
// requests cf sends and the lines it prints. Runs only when a `cf` binary is on PATH or CF_CLI
// points at one; otherwise every test is skipped with the reason. Each test uses its own CF_HOME.
// Lines the contract names are asserted exactly; for commands the contract does not cover
// (create-org, create-space, set-org-role, org-users, space-users, delete-space) the test asserts
// the exit code, `OK`, and the effect through the API. The day-one commands of issue 13 (org,
// space, platform listings, feature flags, scale, ssh, env, push/start) follow cf v8.18.4's own
// output, read from its source.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { pushApp, waitForTask } from './support/push.ts'
import { ADMIN_PASSWORD, startServer, stores, type TestServer } from './support/server.ts'

const NOT_ON_PATH = 'no cf CLI on PATH (nor CF_CLI): install the cf CLI v8 to run this suite (docs/testing.md)'

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
const skip = CF ? false : NOT_ON_PATH

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
    /** Pushed by cf itself without --task, with a Procfile (web and task). */
    const PLAIN = 'cli-plain'

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
    // Day-one commands (issue 13): the platform listings, feature flags, app-scoped scale, ssh
    // switches, VCAP_SERVICES, run-task from the Procfile, push/start without a 5-minute wait, v2.
    it('cf org and cf space: domains, isolation segments and security groups', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD)
      const org = await s.ok('org', ORG)
      assertLines(org.stdout, [`Getting info for org ${ORG} as admin...`, new RegExp(`^name:\\s+${ORG}$`), /^domains:\s+apps\.cf-ledger\.local$/, new RegExp(`^spaces:\\s+.*\\b${SPACE}\\b`), /^isolation segments:$/])
      const space = await s.ok('space', SPACE)
      assertLines(space.stdout, [
        `Getting info for space ${SPACE} in org ${ORG} as admin...`,
        new RegExp(`^name:\\s+${SPACE}$`),
        new RegExp(`^org:\\s+${ORG}$`),
        /^isolation segment:$/,
        /^running security groups:$/,
        /^staging security groups:$/,
      ])
    })

    it('cf domains, stacks, stack, buildpacks, marketplace, security-groups, running-security-groups', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD)
      assertLines((await s.ok('domains')).stdout, [`Getting domains in org ${ORG} as admin...`, /^name\s+availability\s+internal\s+protocols$/, /^apps\.cf-ledger\.local\s+shared\s+http$/])
      assertLines((await s.ok('stacks')).stdout, ['Getting stacks as admin...', /^name\s+description\s+state$/, /^cflinuxfs4\s+.+\s+ACTIVE$/])
      assertLines((await s.ok('stack', 'cflinuxfs4')).stdout, [/^name:\s+cflinuxfs4$/, /^state:\s+ACTIVE$/])
      const missingStack = await s.run('stack', 'nope')
      assert.equal(missingStack.code, 1)
      assert.match(missingStack.stdout + missingStack.stderr, /Stack 'nope' not found/)
      assertLines((await s.ok('buildpacks')).stdout, ['Getting buildpacks as admin...', /^position\s+name\s+stack\s+enabled\s+locked\s+state\s+filename\s+lifecycle$/, /^1\s+binary_buildpack\s+cflinuxfs4\s+true\s+true\s+READY\s+\S+\s+buildpack$/])
      assertLines((await s.ok('marketplace')).stdout, [/^Getting all service offerings from marketplace/, 'No service offerings found.'])
      assertLines((await s.ok('security-groups')).stdout, ['Getting security groups as admin...', 'No security groups found.'])
      assertLines((await s.ok('running-security-groups')).stdout, ['Getting global running security groups as admin...', 'No global running security groups found.'])
      const create = await s.run('create-security-group', 'sg', path.join(s.cwd, 'none.json'))
      assert.equal(create.code, 1)
    })

    it('cf feature-flags, feature-flag, disable/enable-feature-flag: task_creation is honoured', { skip }, async () => {
      await taskApp()
      const s = await session('admin', ADMIN_PASSWORD)
      const all = await s.ok('feature-flags')
      assertLines(all.stdout, ['Getting feature flags as admin...', /^name\s+state$/, /^user_org_creation\s+disabled$/, /^task_creation\s+enabled$/, /^hide_marketplace_from_unauthenticated_users\s+disabled$/])
      assertLines((await s.ok('disable-feature-flag', 'task_creation')).stdout, ['Disabling feature flag task_creation as admin...', 'OK'])
      try {
        assertLines((await s.ok('feature-flag', 'task_creation')).stdout, [/^Features\s+State$/, /^task_creation\s+disabled$/])
        const d = await session('cli-dev', 'pw-cli-dev')
        const refused = await d.run('run-task', APP, '--command', 'true')
        assert.equal(refused.code, 1)
        assert.match(refused.stdout + refused.stderr, /Feature Disabled: task_creation/)
        // Admins skip task_creation, as in CC.
        await s.ok('run-task', APP, '--command', 'true', '--name', 'admin-while-disabled')
      } finally {
        assertLines((await s.ok('enable-feature-flag', 'task_creation')).stdout, ['Enabling feature flag task_creation as admin...', 'OK'])
      }
      const dev2 = await session('cli-dev', 'pw-cli-dev')
      const denied = await dev2.run('disable-feature-flag', 'task_creation')
      assert.equal(denied.code, 1)
      assert.match(denied.stdout + denied.stderr, /not authorized/i)
    })

    it('cf running-environment-variable-group and set-running-environment-variable-group', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD)
      assertLines((await s.ok('staging-environment-variable-group')).stdout, ['No staging environment variable group has been set.'])
      assertLines((await s.ok('set-running-environment-variable-group', '{"FROM_GROUP":"group-value"}')).stdout, ['Setting the contents of the running environment variable group as admin...', 'OK'])
      assertLines((await s.ok('running-environment-variable-group')).stdout, ['Getting the running environment variable group as admin...', /^variable name\s+assigned value$/, /^FROM_GROUP\s+group-value$/])
    })

    it('cf push without --task, start, restart, restage, scale -i: end at once and say why nothing runs', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      fs.writeFileSync(path.join(s.cwd, 'run.sh'), '#!/bin/sh\necho "ran $1"\necho "services=$VCAP_SERVICES"\necho "group=$FROM_GROUP"\n', { mode: 0o755 })
      fs.writeFileSync(path.join(s.cwd, 'Procfile'), 'web: ./run.sh web\ntask: ./run.sh from-procfile\n')
      const warning = new RegExp(`cf-ledger does not run long-running processes: no instance of app '${PLAIN}' will start\\. Run its code as a task with 'cf run-task ${PLAIN} --command CMD' \\(or push with 'cf push ${PLAIN} --task'\\)\\.`)
      for (const args of [['push', PLAIN, '-p', '.'], ['push', PLAIN, '-p', '.'], ['restart', PLAIN], ['restage', PLAIN], ['stop', PLAIN], ['start', PLAIN], ['scale', PLAIN, '-i', '2']]) {
        const began = Date.now()
        const r = await s.ok(...args)
        // cf waits up to 5 minutes for an instance; it stops at once when the stats list none.
        assert.ok(Date.now() - began < 60_000, `cf ${args.join(' ')} took ${Date.now() - began} ms`)
        if (args[0] !== 'stop') {
          assert.match(r.stderr, warning, `cf ${args.join(' ')}\n${r.stdout}\n${r.stderr}`)
          assertLines(r.stdout, [/^requested state:\s+started$/, /^type:\s+web$/, 'There are no running instances of this process.'])
        }
      }
      const app = expectOk(await dev.get(`/v3/apps?names=${PLAIN}&space_guids=${spaceGuid}`)).body.resources[0]
      assert.equal(app.state, 'STARTED')
      const web = expectOk(await dev.get(`/v3/apps/${app.guid}/processes/web`)).body
      assert.equal(web.instances, 2)
      assert.equal(web.command, './run.sh web')
    })

    it('cf scale --process task -m: the app-scoped scale, with audit.app.process.scale', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      const r = await s.ok('scale', PLAIN, '--process', 'task', '-m', '256M', '-f')
      assertLines(r.stdout, [`Scaling app ${PLAIN} in org ${ORG} / space ${SPACE} as cli-dev...`, /^type:\s+task$/, /^memory usage:\s+256M$/])
      const app = expectOk(await dev.get(`/v3/apps?names=${PLAIN}&space_guids=${spaceGuid}`)).body.resources[0]
      const task = expectOk(await dev.get(`/v3/apps/${app.guid}/processes/task`)).body
      assert.equal(task.memory_in_mb, 256)
      const events = expectOk(await dev.get(`/v3/audit_events?types=audit.app.process.scale&target_guids=${app.guid}`)).body.resources
      const scaled = events.find((e: { data: { process_type: string } }) => e.data.process_type === 'task')
      assert.ok(scaled, JSON.stringify(events))
      assert.deepEqual(scaled.data.request, { memory_in_mb: 256 })
    })

    it('cf run-task APP without --command: the Procfile task command', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      const r = await s.ok('run-task', PLAIN, '--name', 'from-procfile', '--wait')
      assertLines(r.stdout, ['Task has been submitted successfully for execution.', /^task name:\s+from-procfile$/, 'Task has completed successfully.'])
      const logs = await s.ok('logs', PLAIN, '--recent')
      assertLines(logs.stdout, [/\[APP\/TASK\/from-procfile\/0\] OUT ran from-procfile$/])
    })

    it('cf bind-service, cf env and a task: VCAP_SERVICES, never in an audit event', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      await s.ok('create-user-provided-service', 'cli-ups', '-p', '{"secret":"s3cr3t-value"}', '-t', 'db,cli')
      await s.ok('bind-service', PLAIN, 'cli-ups')
      const env = await s.ok('env', PLAIN)
      assert.match(env.stdout, /"user-provided": \[/)
      for (const line of ['"binding_name": null,', '"instance_name": "cli-ups",', '"label": "user-provided",', '"name": "cli-ups",', '"secret": "s3cr3t-value"', '"syslog_drain_url": null,', '"volume_mounts": []']) {
        assert.ok(lines(env.stdout).some((l) => l.trim() === line), `${line} in:\n${env.stdout}`)
      }
      assertLines(env.stdout, ['Running Environment Variable Groups:', 'FROM_GROUP: group-value'])
      const auditor = await session('cli-auditor', 'pw-cli-auditor')
      const hidden = await auditor.run('env', PLAIN)
      assert.equal(hidden.code, 1)
      await s.ok('run-task', PLAIN, '--command', './run.sh vcap', '--name', 'vcap', '--wait')
      const logs = (await s.ok('logs', PLAIN, '--recent')).stdout
      const line = lines(logs).find((l) => /\[APP\/TASK\/vcap\/0\] OUT services=/.test(l))
      assert.ok(line, logs)
      const services = JSON.parse(line.replace(/^.*OUT services=/, ''))
      assert.deepEqual(Object.keys(services), ['user-provided'])
      assert.deepEqual(services['user-provided'][0].credentials, { secret: 's3cr3t-value' })
      assert.deepEqual(services['user-provided'][0].tags, ['db', 'cli'])
      assertLines(logs, [/\[APP\/TASK\/vcap\/0\] OUT group=group-value$/])
      const events = JSON.parse((await s.ok('curl', '/v3/audit_events?per_page=5000')).stdout)
      assert.ok(!JSON.stringify(events).includes('s3cr3t-value'), 'a credential reached an audit event')
    })

    it('cf ssh-enabled, enable-ssh, disable-ssh, space-ssh-allowed, disallow-space-ssh', { skip }, async () => {
      const s = await session('admin', ADMIN_PASSWORD)
      assertLines((await s.ok('ssh-enabled', PLAIN)).stdout, [`ssh support is disabled for app '${PLAIN}'.`, 'Disabled globally'])
      assertLines((await s.ok('disable-ssh', PLAIN)).stdout, [`Disabling ssh support for app ${PLAIN} as admin...`, 'OK'])
      assertLines((await s.ok('enable-ssh', PLAIN)).stdout, [`Enabling ssh support for app ${PLAIN} as admin...`, 'OK', 'TIP: Ensure ssh is also enabled on the space and global level.'])
      assertLines((await s.ok('space-ssh-allowed', SPACE)).stdout, [`ssh support is enabled in space '${SPACE}'.`])
      await s.ok('disallow-space-ssh', SPACE)
      assertLines((await s.ok('space-ssh-allowed', SPACE)).stdout, [`ssh support is disabled in space '${SPACE}'.`])
      await s.ok('allow-space-ssh', SPACE)
    })

    it('cf curl of the v2 lists old scripts use', { skip }, async () => {
      const s = await session('cli-dev', 'pw-cli-dev')
      const orgs = JSON.parse((await s.ok('curl', `/v2/organizations?q=name:${ORG}`)).stdout)
      assert.equal(orgs.total_results, 1)
      assert.equal(orgs.resources[0].entity.name, ORG)
      assert.equal(orgs.resources[0].metadata.guid, orgGuid)
      const spaces = JSON.parse((await s.ok('curl', `/v2/spaces?q=organization_guid:${orgGuid}&results-per-page=1&order-direction=desc`)).stdout)
      assert.equal(spaces.resources.length, 1)
      const apps = JSON.parse((await s.ok('curl', `/v2/apps?q=name%20IN%20${PLAIN},${APP}`)).stdout)
      assert.deepEqual(apps.resources.map((a: { entity: { name: string } }) => a.entity.name).sort(), [APP, PLAIN].sort())
      const plain = apps.resources.find((a: { entity: { name: string } }) => a.entity.name === PLAIN)
      assert.equal(plain.entity.instances, 2)
      assert.equal(plain.entity.detected_start_command, './run.sh web')
      const stacks = JSON.parse((await s.ok('curl', '/v2/stacks')).stdout)
      assert.equal(stacks.resources[0].entity.name, 'cflinuxfs4')
      const ups = JSON.parse((await s.ok('curl', '/v2/user_provided_service_instances?q=name:cli-ups')).stdout)
      assert.equal(ups.resources[0].entity.credentials.secret, 's3cr3t-value')
      assert.equal(JSON.parse((await s.ok('curl', '/v2/service_instances')).stdout).total_results, 0)
      const users = await s.run('curl', '--fail', '/v2/users')
      assert.notEqual(users.code, 0)
      const admin2 = await session('admin', ADMIN_PASSWORD, false)
      assert.ok(JSON.parse((await admin2.ok('curl', '/v2/users')).stdout).total_results >= 3)
      const bad = JSON.parse((await s.run('curl', '/v2/apps?q=bogus:1')).stdout)
      assert.equal(bad.error_code, 'CF-BadQueryParameter')
    })
  })
}

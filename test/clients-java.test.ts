// A second real CF client library against the server: the CF Java client
// (org.cloudfoundry:cloudfoundry-client-reactor, pinned in test/clients/java/pom.xml). Maven builds
// test/clients/java/ once (`mvn package`, which .ci/run also does); the program there drives orgs,
// spaces, apps, processes, tasks and audit events with metadata and paging, and prints one `ok`
// line per step. Skipped, with the reason, where java or mvn are missing.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Api, expectOk, createOrgAndSpace } from './support/client.ts'
import { pushApp } from './support/push.ts'
import { ADMIN_PASSWORD, startServer, stores, type TestServer } from './support/server.ts'

const project = path.resolve(import.meta.dirname, 'clients', 'java')
const jar = path.join(project, 'target', 'cf-ledger-java-client.jar')
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const skip = onPath('java') && onPath('mvn') ? false : 'java and mvn are needed for the CF Java client (apt-get install openjdk-17-jdk-headless maven)'

/** Builds the client program unless its jar is newer than its sources. */
function build(): void {
  const sources = [path.join(project, 'pom.xml'), path.join(project, 'src', 'main', 'java', 'cfledger', 'Main.java')]
  const built = fs.existsSync(jar) ? fs.statSync(jar).mtimeMs : 0
  if (sources.every((f) => fs.statSync(f).mtimeMs < built)) return
  const r = spawnSync('mvn', ['-q', '-B', 'package'], { cwd: project, encoding: 'utf8', timeout: 600_000 })
  assert.equal(r.status, 0, `mvn package failed:\n${r.stdout}\n${r.stderr}`)
}

function runClient(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', `${jar}${path.delimiter}${path.join(project, 'target', 'lib', '*')}`, 'cfledger.Main', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

for (const store of stores()) {
  describe(`CF Java client [${store}]`, () => {
    let server: TestServer
    let admin: Api
    let appGuid: string

    before(async () => {
      if (skip) return
      build()
      server = await startServer(store)
      admin = await new Api(server.url).admin()
      const { spaceGuid } = await createOrgAndSpace(admin, 'java-pushed-org', 'java-pushed-space')
      appGuid = await pushApp(admin, spaceGuid, 'java-pushed', { 'run.sh': { content: '#!/bin/sh\necho ok\n', mode: 0o755 } })
    })
    after(async () => {
      await server?.stop()
    })

    it('drives orgs, spaces, apps, processes, tasks and audit events with metadata and paging', { skip }, async () => {
      const url = new URL(server.url)
      const r = await runClient([url.hostname, url.port, 'admin', ADMIN_PASSWORD, appGuid])
      assert.equal(r.code, 0, r.out)
      const steps = r.out.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.split(' ')[1])
      assert.deepEqual(steps, ['organizations', 'spaces', 'apps', 'processes', 'tasks', 'audit_events'], r.out)
      // What the client did is on the server.
      const org = expectOk(await admin.get('/v3/organizations?names=java-org-a')).body.resources[0]
      assert.deepEqual(org.metadata, { labels: { client: 'java' }, annotations: { note: 'from the CF Java client' } })
      const web = expectOk(await admin.get(`/v3/apps/${appGuid}/processes/web`)).body
      assert.equal(web.instances, 3)
      const tasks = expectOk(await admin.get(`/v3/apps/${appGuid}/tasks?names=java-task`)).body.resources
      assert.equal(tasks[0].state, 'SUCCEEDED')
    })
  })
}

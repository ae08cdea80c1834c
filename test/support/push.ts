// Pushes an app the way cf v8 does for `cf push --task`: app, package, zip upload, build, droplet.
import yazl from 'yazl'
import { expectOk, type Api } from './client.ts'

export async function zipOf(files: Record<string, string | { content: string; mode: number }>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, f] of Object.entries(files)) {
    const { content, mode } = typeof f === 'string' ? { content: f, mode: 0o644 } : f
    zip.addBuffer(Buffer.from(content), name, { mode })
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const c of zip.outputStream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export async function uploadBits(api: Api, packageGuid: string, zip: Buffer) {
  const form = new FormData()
  form.append('resources', '[]')
  form.append('bits', new Blob([new Uint8Array(zip)]), 'package.zip')
  const res = await fetch(`${api.url}/v3/packages/${packageGuid}/upload`, {
    method: 'POST',
    headers: { authorization: `bearer ${api.token}` },
    body: form,
  })
  return { status: res.status, body: await res.json() }
}

/** Creates an app with a staged droplet holding `files`; returns the app guid. */
export async function pushApp(
  api: Api,
  spaceGuid: string,
  name: string,
  files: Record<string, string | { content: string; mode: number }> = { 'run.sh': { content: 'echo hello\n', mode: 0o755 } },
): Promise<string> {
  const app = expectOk(await api.post('/v3/apps', { name, relationships: { space: { data: { guid: spaceGuid } } } }), 201)
  const pkg = expectOk(await api.post('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app.body.guid } } } }), 201)
  const up = await uploadBits(api, pkg.body.guid, await zipOf(files))
  if (up.status !== 200) throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`)
  const build = expectOk(await api.post('/v3/builds', { package: { guid: pkg.body.guid } }), 201)
  const staged = expectOk(await api.get(`/v3/builds/${build.body.guid}`))
  if (staged.body.state !== 'STAGED') throw new Error(`build not staged: ${JSON.stringify(staged.body)}`)
  expectOk(await api.patch(`/v3/apps/${app.body.guid}/relationships/current_droplet`, { data: { guid: staged.body.droplet.guid } }))
  return app.body.guid
}

/** Polls a task until it is SUCCEEDED or FAILED. */
export async function waitForTask(api: Api, taskGuid: string, timeoutMs = 30_000): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = expectOk(await api.get(`/v3/tasks/${taskGuid}`))
    if (r.body.state === 'SUCCEEDED' || r.body.state === 'FAILED') return r.body
    if (Date.now() > deadline) throw new Error(`task ${taskGuid} still ${r.body.state}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

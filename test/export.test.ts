// Audit export (docs/export.md): the NDJSON stream with real HTTP consumers across server
// restarts, and the syslog forwarder against a real rsyslog (plus Node receivers that misbehave
// on purpose) across receiver outages and a server restart.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { after, before, describe, it } from 'node:test'
import { Api, createOrgAndSpace, createUser, expectOk, grant } from './support/client.ts'
import { readEvents, withStore } from './support/db.ts'
import { startServer, stores, type TestServer } from './support/server.ts'
import { until } from './support/wait.ts'
import { openCheckpoint } from '../src/ledger/checkpoint.ts'
import { parseVkey } from '../src/ledger/note.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tmpRoot = () => process.env.CF_LEDGER_TEST_TMP ?? os.tmpdir()

async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise((r) => srv.close(r))
  return port
}

// ---------------------------------------------------------------------------------------------
// An NDJSON consumer that keeps its cursor, like a SIEM collector would.

interface StreamRead {
  readonly status: number
  readonly events: Json[]
  /** The `{"checkpoint": …}` lines of a stream opened with checkpoints=true, with the events read before each. */
  readonly checkpoints: { size: number; root: string; note: string; afterEvents: number }[]
  heartbeats: number
  /** done: the server ended the response; error: the connection broke; stopped: we stopped. */
  end?: 'done' | 'error' | 'stopped'
}

interface StreamHandle {
  readonly read: StreamRead
  /** Resolves when the stream is over (any reason). */
  readonly finished: Promise<StreamRead>
  /** Stop reading but keep the connection open (a consumer that stalls). */
  pause(): void
  /** Read again after a pause. */
  resume(): void
  /** Close the connection from the consumer side. */
  stop(): void
}

async function openStream(api: Api, query: string, opts: { pauseAfter?: number } = {}): Promise<StreamHandle> {
  const ac = new AbortController()
  const res = await fetch(`${api.url}/ledger/v1/events/stream?${query}`, { headers: { authorization: `bearer ${api.token}` }, signal: ac.signal })
  const read: StreamRead = { status: res.status, events: [], checkpoints: [], heartbeats: 0 }
  let paused = false
  let resumePause: (() => void) | undefined
  const finished = (async () => {
    if (res.status !== 200) {
      read.end = 'done'
      await res.text()
      return read
    }
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for (;;) {
        if (paused) await new Promise<void>((r) => (resumePause = r))
        const { done, value } = await reader.read()
        if (done) {
          read.end ??= 'done'
          return read
        }
        buf += decoder.decode(value, { stream: true })
        let nl
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          const json = line === '' ? undefined : JSON.parse(line)
          if (!json) read.heartbeats++
          else if (json.checkpoint) read.checkpoints.push({ ...json.checkpoint, afterEvents: read.events.length })
          else read.events.push(json)
          if (opts.pauseAfter !== undefined && read.events.length >= opts.pauseAfter) paused = true
        }
      }
    } catch {
      read.end ??= 'error'
      return read
    }
  })()
  return {
    read,
    finished,
    pause: () => (paused = true),
    resume: () => {
      paused = false
      opts.pauseAfter = undefined
      resumePause?.()
    },
    stop: () => {
      read.end ??= 'stopped'
      resumePause?.()
      ac.abort()
    },
  }
}

/** Reads a whole non-following stream. */
async function readAll(api: Api, query: string): Promise<StreamRead> {
  const h = await openStream(api, query)
  return h.finished
}

const lastPosition = (events: readonly Json[], fallback: number) => (events.length ? events[events.length - 1]!.position : fallback)
const bySeq = (events: readonly Json[]) => [...events].sort((a, b) => a.seq - b.seq)
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/**
 * Resolves once every committed event is a leaf of the log (events become leaves at the
 * integrator's next pass, docs/export.md): the log's size, read through the forwarder status,
 * equals the number of events. Every leaf in these suites is an audit event.
 */
async function allIntegrated(admin: Api): Promise<number> {
  return until('every event integrated into the log', async () => {
    const [s, events] = await Promise.all([admin.get('/ledger/v1/export/syslog'), admin.get('/v3/audit_events?per_page=1')])
    const total = expectOk(events).body.pagination.total_results as number
    return expectOk(s).body.head === total ? total : undefined
  }, 20_000, 25)
}

/** A client-credentials token with the given authorities (long-lived: CF_LEDGER_CLIENT_TOKEN_TTL). */
async function clientApi(admin: Api, clientId: string, authorities: string[]): Promise<Api> {
  expectOk(await admin.post('/oauth/clients', { client_id: clientId, client_secret: 's3cret', authorities, authorized_grant_types: ['client_credentials'] }), 201)
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: 's3cret' }).toString()
  const t = expectOk(await admin.request('POST', '/oauth/token', form, { 'content-type': 'application/x-www-form-urlencoded' }))
  return admin.as(t.body.access_token)
}

async function createOrgs(admin: Api, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) expectOk(await admin.post('/v3/organizations', { name: `${prefix}-${i}` }), 201)
}

function withoutLedgerFields(line: Json): Json {
  const rest = { ...line }
  for (const k of ['position', 'seq', 'prev_hash', 'hash']) delete rest[k]
  return rest
}

// ---------------------------------------------------------------------------------------------
// Syslog receivers: a real rsyslogd in the foreground, and Node listeners that misbehave.

class Rsyslog {
  private child: ChildProcess | undefined
  readonly file: string

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    fs.mkdirSync(dir, { recursive: true })
    this.file = path.join(dir, 'raw.log')
    fs.writeFileSync(
      path.join(dir, 'rs.conf'),
      `global(workDirectory="${dir}" maxMessageSize="256k")
module(load="imtcp" maxSessions="50")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="drain" queue.type="LinkedList" queue.workerThreads="1" queue.size="2000000") { action(type="omfile" file="${this.file}" template="raw" flushOnTXEnd="on" asyncWriting="off") }
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="drain")
`,
    )
  }

  static available(): boolean {
    return spawnSync('rsyslogd', ['-v']).status === 0
  }

  async start(): Promise<void> {
    const child = spawn('rsyslogd', ['-n', '-f', path.join(this.dir, 'rs.conf'), '-i', path.join(this.dir, 'rs.pid')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr!.on('data', (d) => (err += d))
    this.child = child
    await until(`rsyslogd listening on ${this.port} (${err})`, async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${err}`)
      return new Promise<boolean>((resolve) => {
        const s = net.connect(this.port, '127.0.0.1', () => {
          s.end()
          resolve(true)
        })
        s.on('error', () => resolve(false))
      })
    }, 10_000, 50)
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
    this.child = undefined
  }

  lines(): string[] {
    if (!fs.existsSync(this.file)) return []
    return fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean)
  }
}

const FRAME = /^<110>1 (\S+) (\S+) cf-ledger - audit \[audit@47450 seq="(\d+)" position="(\d+)" guid="([^"\\\]]+)" type="([^"\\\]]+)"\] (\{.*\})$/

interface Received {
  readonly seq: number
  readonly position: number
  readonly timestamp: string
  readonly hostname: string
  readonly guid: string
  readonly type: string
  readonly body: Json
}

function parseMessage(line: string): Received {
  const m = FRAME.exec(line)
  if (!m) throw new Error(`not an audit syslog message: ${line.slice(0, 300)}`)
  return { timestamp: m[1]!, hostname: m[2]!, seq: Number(m[3]), position: Number(m[4]), guid: m[5]!, type: m[6]!, body: JSON.parse(m[7]!) }
}

/** Splits an octet-counted byte stream into messages (RFC 6587 §3.4.1). */
function splitOctetCounted(data: Buffer): string[] {
  const out: string[] = []
  let i = 0
  while (i < data.length) {
    const sp = data.indexOf(0x20, i)
    assert.ok(sp > i, 'octet count')
    const len = Number(data.subarray(i, sp).toString('latin1'))
    assert.ok(Number.isInteger(len) && len > 0, `octet count '${data.subarray(i, sp)}'`)
    const msg = data.subarray(sp + 1, sp + 1 + len)
    assert.equal(msg.length, len, 'a whole frame')
    assert.equal(msg[msg.length - 1], 0x0a, 'frames end in LF, counted')
    out.push(msg.subarray(0, msg.length - 1).toString('utf8'))
    i = sp + 1 + len
  }
  return out
}

type Misbehaviour = 'close-at-once' | 'reset-after-read'

/** A listener on `port` that never confirms a batch: it closes at once, or reads all and resets. */
async function misbehavingReceiver(port: number, mode: Misbehaviour) {
  const state = { connections: 0, messagesRead: 0 }
  const server = net.createServer((socket) => {
    state.connections++
    if (mode === 'close-at-once') {
      socket.end()
      return
    }
    const chunks: Buffer[] = []
    socket.on('data', (d) => chunks.push(d))
    socket.on('end', () => {
      state.messagesRead += splitOctetCounted(Buffer.concat(chunks)).length
      socket.resetAndDestroy()
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  return { state, close: () => new Promise((r) => server.close(r)) }
}

function syslogStatus(admin: Api) {
  return admin.get('/ledger/v1/export/syslog').then((r) => expectOk(r).body as Json)
}

async function waitDelivered(admin: Api, what: string, timeoutMs = 60_000): Promise<Json> {
  return until(what, async () => {
    await allIntegrated(admin)
    const s = await syslogStatus(admin)
    return s.cursor === s.head && s.head > 0 ? s : undefined
  }, timeoutMs, 100)
}

// ---------------------------------------------------------------------------------------------

for (const store of stores()) {
  describe(`audit export: NDJSON stream [${store}]`, () => {
    let server: TestServer
    let admin: Api

    before(async () => {
      server = await startServer(store)
      admin = await new Api(server.url).admin()
    })
    after(() => server.stop())

    it('refuses bad cursors and parameters with 400 CF-BadQueryParameter, and anonymous callers with 401', async () => {
      for (const q of ['after=-1', 'after=abc', 'after=1.5', 'after=', 'after=1e3', 'after_seq=x', 'after=1&after_seq=1', 'follow=maybe', 'heartbeat=0', 'heartbeat=301', 'since=3']) {
        const r = await admin.get(`/ledger/v1/events/stream?${q}`)
        assert.equal(r.status, 400, q)
        assert.equal(r.body.errors[0].title, 'CF-BadQueryParameter', q)
        assert.equal(r.body.errors[0].code, 10005, q)
      }
      const beyond = await admin.get('/ledger/v1/events/stream?after=999999')
      assert.equal(beyond.status, 400)
      assert.match(beyond.body.errors[0].detail, /^The query parameter is invalid: after 999999 is beyond the last position of this ledger's log \(\d+\)$/)
      const anon = await new Api(server.url).get('/ledger/v1/events/stream?after=0')
      assert.equal(anon.status, 401)
      assert.equal(anon.body.errors[0].title, 'CF-NotAuthenticated')
    })

    it('streams every event in log order as the v3 audit event plus position, seq, prev_hash and hash, and ends when caught up with follow=false', async () => {
      await createOrgAndSpace(admin, 'stream-org', 'stream-space')
      await createOrgs(admin, 'stream', 5)
      const total = await allIntegrated(admin)
      const all = await readAll(admin, 'after=0&follow=false')
      assert.equal(all.status, 200)
      assert.equal(all.end, 'done')
      assert.ok(all.events.length >= 7)
      assert.equal(all.events.length, total, 'every event, each once')
      assert.deepEqual(all.events.map((e) => e.position), oneTo(total), 'positions 1, 2, 3, … in stream order')
      // Events written since the chain ended (decisions/0010): each seq once, no chain fields.
      const seqs = bySeq(all.events).map((e) => e.seq)
      assert.equal(new Set(seqs).size, total)
      for (const e of all.events) assert.deepEqual([e.prev_hash, e.hash], [null, null])
      // Each line is exactly what /v3/audit_events/:guid shows, plus the three ledger fields.
      for (const e of all.events.slice(0, 4)) {
        const v3 = expectOk(await admin.get(`/v3/audit_events/${e.guid}`)).body
        assert.deepEqual(withoutLedgerFields(e), v3)
      }
      assert.deepEqual(Object.keys(all.events[0]!), [
        'position', 'seq', 'guid', 'created_at', 'updated_at', 'type', 'actor', 'target', 'data', 'space', 'organization', 'links', 'prev_hash', 'hash',
      ])
      // A cursor in the middle resumes right after it.
      const tail = await readAll(admin, 'after=3&follow=false')
      assert.deepEqual(tail.events, all.events.slice(3))
      const atHead = await readAll(admin, `after=${all.events.length}&follow=false`)
      assert.deepEqual(atHead.events, [])
      assert.equal(atHead.end, 'done')
      // A consumer holding an event seq from before positions resumes after the leaf of that event.
      const fromSeq = await readAll(admin, 'after_seq=3&follow=false')
      assert.deepEqual(fromSeq.events, all.events.filter((e) => e.position > all.events.find((x) => x.seq === 3)!.position))
    })

    it('follows new events live and keeps the connection alive with blank-line heartbeats', async () => {
      await allIntegrated(admin)
      const head = lastPosition((await readAll(admin, 'after=0&follow=false')).events, 0)
      const h = await openStream(admin, `after=${head}&heartbeat=1`)
      assert.equal(h.read.status, 200)
      await until('a heartbeat', async () => h.read.heartbeats >= 1, 10_000)
      assert.equal(h.read.events.length, 0)
      const t0 = Date.now()
      expectOk(await admin.post('/v3/organizations', { name: 'live-1' }), 201)
      await until('the live event', async () => h.read.events.length === 1, 10_000, 20)
      const latency = Date.now() - t0
      expectOk(await admin.post('/v3/organizations', { name: 'live-2' }), 201)
      await until('the second live event', async () => h.read.events.length === 2, 10_000, 20)
      assert.deepEqual(h.read.events.map((e) => [e.position, e.type, e.target.name]), [
        [head + 1, 'audit.organization.create', 'live-1'],
        [head + 2, 'audit.organization.create', 'live-2'],
      ])
      assert.ok(latency < 3000, `live event took ${latency} ms`)
      h.stop()
      await h.finished
    })

    it('writes, with checkpoints=true, the newest signed log checkpoint covering what it has sent, signed by the log key', async () => {
      await createOrgs(admin, 'checkpointed', 3)
      await allIntegrated(admin)
      const vkey = (await (await fetch(`${server.url}/ledger/v1/log/key`)).text()).trim()
      const cp = await until('a checkpoint of the whole log', async () => {
        const r = await readAll(admin, 'after=0&follow=false&checkpoints=true')
        const last = r.checkpoints.at(-1)
        return last && last.size === lastPosition(r.events, 0) ? { r, last } : undefined
      }, 20_000, 200)
      assert.equal(cp.last.afterEvents, cp.r.events.length, 'after the events it covers')
      assert.equal(cp.r.checkpoints.length, 1)
      const logKey = parseVkey(vkey)
      const opened = openCheckpoint(cp.last.note, logKey.name, [logKey])
      assert.equal(opened.size, cp.last.size)
      assert.equal(Buffer.from(opened.root).toString('base64'), cp.last.root)
      // Without the parameter the stream holds events only.
      assert.deepEqual((await readAll(admin, 'after=0&follow=false')).checkpoints, [])
      // A follower gets the checkpoint that covers a new event once one is signed.
      const h = await openStream(admin, `after=${cp.last.size}&checkpoints=true&heartbeat=1`)
      expectOk(await admin.post('/v3/organizations', { name: 'checkpointed-live' }), 201)
      await until('the covering checkpoint', async () => h.read.checkpoints.some((c) => c.size >= h.read.events.at(-1)?.position), 20_000, 50)
      h.stop()
      await h.finished
    })

    it('shows non-global readers only what /v3/audit_events shows them, re-reading their roles while the stream is open', async () => {
      const a = await createOrgAndSpace(admin, 'vis-org', 'vis-space')
      const b = await createOrgAndSpace(admin, 'vis-other-org', 'vis-other-space')
      const dev = await createUser(admin, 'stream-dev')
      const auditor = await createUser(admin, 'stream-org-auditor')
      const manager = await createUser(admin, 'stream-org-manager')
      for (const u of [dev, auditor, manager]) await grant(admin, 'organization_user', u.guid, { org: a.orgGuid })
      await grant(admin, 'space_developer', dev.guid, { space: a.spaceGuid })
      await grant(admin, 'organization_auditor', auditor.guid, { org: a.orgGuid })
      await grant(admin, 'organization_manager', manager.guid, { org: a.orgGuid })
      expectOk(await admin.patch(`/v3/spaces/${a.spaceGuid}`, { name: 'vis-space-renamed' }))
      expectOk(await admin.patch(`/v3/spaces/${b.spaceGuid}`, { name: 'vis-other-space-renamed' }))

      await allIntegrated(admin)
      const everything = (await readAll(admin, 'after=0&follow=false')).events
      const expectFor = (pred: (e: Json) => boolean) => everything.filter(pred).map((e) => e.seq)
      const seqs = async (api: Api) => {
        const r = await readAll(api, 'after=0&follow=false')
        assert.equal(r.status, 200)
        return r.events.map((e) => e.seq)
      }
      const devSeqs = await seqs(dev.api)
      assert.deepEqual(devSeqs, expectFor((e) => e.space?.guid === a.spaceGuid))
      assert.ok(devSeqs.length >= 3, 'space create, role add, space update')
      assert.deepEqual(await seqs(auditor.api), expectFor((e) => e.organization?.guid === a.orgGuid))
      assert.deepEqual(await seqs(manager.api), [], 'org managers see no audit events (as CC)')

      // Global auditors (and admin read-only) see everything, like admins.
      const globalAuditor = await clientApi(admin, 'stream-global-auditor', ['cloud_controller.global_auditor'])
      assert.deepEqual(await seqs(globalAuditor), everything.map((e) => e.seq))

      // Roles granted while a stream is open apply from the next refill on.
      const head = lastPosition(everything, 0)
      const h = await openStream(dev.api, `after=${head}`)
      await grant(admin, 'organization_user', dev.guid, { org: b.orgGuid })
      await grant(admin, 'space_auditor', dev.guid, { space: b.spaceGuid })
      expectOk(await admin.patch(`/v3/spaces/${b.spaceGuid}`, { name: 'vis-other-space-again' }))
      await until('the newly visible space update', async () => h.read.events.some((e) => e.type === 'audit.space.update'), 10_000, 50)
      assert.ok(h.read.events.every((e) => e.space?.guid === b.spaceGuid))
      h.stop()
      await h.finished
    })

    it('resumes from the consumer cursor across SIGKILL and SIGTERM restarts with every event exactly once and no gaps', async () => {
      const received: Json[] = []
      await createOrgs(admin, 'resume-a', 20)

      // 1. A consumer processes ten events and disconnects; its cursor is the last position it processed
      //    (lines it had read but not processed are simply read again).
      const first = await openStream(admin, 'after=0')
      await until('ten events', async () => first.read.events.length >= 10, 10_000, 10)
      first.stop()
      await first.finished
      received.push(...first.read.events.slice(0, 10))
      let cursor = lastPosition(received, 0)

      // 2. It resumes, reads a few more, stalls (the server keeps writing into the socket), and the
      //    server is killed with SIGKILL under it.
      const second = await openStream(admin, `after=${cursor}`, { pauseAfter: 5 })
      await until('five more events', async () => second.read.events.length >= 5, 10_000, 10)
      await server.stop('SIGKILL')
      second.resume()
      const r2 = await second.finished
      assert.notEqual(r2.end, 'done', 'a killed server cannot end the response cleanly')
      received.push(...r2.events.slice(0, 5))
      cursor = lastPosition(received, cursor)

      // 3. Restart; new events arrive; the consumer resumes and follows; SIGTERM ends its stream
      //    cleanly (and promptly) while it is open.
      server = await server.restart()
      admin = await new Api(server.url).admin()
      await createOrgs(admin, 'resume-b', 10)
      await allIntegrated(admin)
      const headNow = lastPosition((await readAll(admin, `after=${cursor}&follow=false`)).events, cursor)
      const third = await openStream(admin, `after=${cursor}`)
      await until('caught up', async () => lastPosition(third.read.events, cursor) === headNow, 10_000, 10)
      const t0 = Date.now()
      await server.stop('SIGTERM')
      const r3 = await third.finished
      assert.equal(r3.end, 'done', 'SIGTERM ends open streams cleanly')
      assert.ok(Date.now() - t0 < 15_000, `shutdown with an open stream took ${Date.now() - t0} ms`)
      received.push(...r3.events)
      cursor = lastPosition(received, cursor)

      // 4. Restart again; more events; the consumer catches up from its cursor.
      server = await server.restart()
      admin = await new Api(server.url).admin()
      await createOrgs(admin, 'resume-c', 5)
      await allIntegrated(admin)
      const fourth = await readAll(admin, `after=${cursor}&follow=false`)
      received.push(...fourth.events)

      // Every position from 1 to the head exactly once, every event once, and identical to the
      // database (seq has holes where a crash lost the sequence's cached values: decisions/0010).
      const positions = received.map((e) => e.position)
      assert.equal(new Set(positions).size, positions.length, 'no duplicates with an exact cursor')
      assert.deepEqual(positions, oneTo(positions.at(-1)!))
      const inSeqOrder = bySeq(received)
      const db = await withStore(server, readEvents)
      assert.deepEqual(
        inSeqOrder.map((e) => [e.seq, e.guid, e.hash]),
        db.map((e) => [e.seq, e.guid, e.hash]),
      )
      if (store === 'embedded') server = await server.restart()
    })
  })

  describe(`audit export: syslog forwarder to rsyslog [${store}]`, { skip: Rsyslog.available() ? false : 'rsyslogd is not installed (apt-get install rsyslog)' }, () => {
    let server: TestServer
    let admin: Api
    let rsyslog: Rsyslog
    let port: number

    before(async () => {
      port = await freePort()
      rsyslog = new Rsyslog(fs.mkdtempSync(path.join(tmpRoot(), 'rsyslog-')), port)
      await rsyslog.start()
      server = await startServer(store, { env: { CF_LEDGER_AUDIT_SYSLOG_URL: `tcp://127.0.0.1:${port}` } })
      admin = await new Api(server.url).admin()
    })
    after(async () => {
      await server.stop()
      await rsyslog.stop()
    })

    const receivedSeqs = () => rsyslog.lines().map((l) => parseMessage(l).seq)
    const receivedPositions = () => rsyslog.lines().map((l) => parseMessage(l).position)
    /** Every log position up to `head` reached rsyslog (positions are gap-free; seqs need not be). */
    const assertComplete = (head: number) => {
      const positions = receivedPositions()
      const missing = Array.from({ length: head }, (_, i) => i + 1).filter((p) => !positions.includes(p))
      assert.deepEqual(missing, [], 'every event reached rsyslog')
      return positions
    }

    it('ships every audit event as one RFC 5424 message in an octet-counted frame', async () => {
      await createOrgAndSpace(admin, 'syslog-org', 'syslog-space')
      // Multi-byte UTF-8 and characters RFC 5424 escapes: the octet count is in bytes, not characters.
      expectOk(await admin.post('/v3/organizations', { name: 'ünïcødé-🚀 "quoted" ]bracket\\' }), 201)
      await createOrgs(admin, 'syslog', 3)
      const s = await waitDelivered(admin, 'the forwarder to catch up')
      assert.equal(s.enabled, true)
      assert.equal(s.url, `tcp://127.0.0.1:${port}`)
      assert.equal(s.leader, true)
      assert.equal(s.lag, 0)
      await until('rsyslog to write them', async () => receivedSeqs().length >= s.head, 10_000, 50)
      const stream = (await readAll(admin, 'after=0&follow=false')).events
      const messages = rsyslog.lines().map(parseMessage)
      assert.deepEqual(messages.map((m) => [m.position, m.seq]), stream.map((e) => [e.position, e.seq]), 'in log order, each once')
      const hostname = os.hostname().replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-'
      messages.forEach((m, i) => {
        const e = stream[i]!
        assert.equal(m.hostname, hostname)
        assert.equal(m.guid, e.guid)
        assert.equal(m.type, e.type)
        assert.match(m.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
        assert.equal(`${m.timestamp.slice(0, 19)}Z`, e.created_at)
        // The body is the stream line without links (as CC's log_audit_events logs it).
        const withoutLinks = { ...e }
        delete withoutLinks.links
        assert.deepEqual(m.body, withoutLinks)
      })
    })

    it('loses nothing through a receiver outage, a receiver that drops connections and one that resets after reading', async () => {
      const start = await syslogStatus(admin)
      await rsyslog.stop()
      // Down: connections are refused.
      await createOrgs(admin, 'outage-refused', 3)
      await until('a refused delivery', async () => (await syslogStatus(admin)).failures_since_start > start.failures_since_start, 20_000)
      // Coming up: something accepts and closes at once without reading (no false confirmation).
      const dropper = await misbehavingReceiver(port, 'close-at-once')
      await createOrgs(admin, 'outage-dropped', 3)
      await until('a dropped connection', async () => dropper.state.connections >= 1, 30_000)
      await dropper.close()
      // Then a receiver that reads a whole batch and resets instead of closing: the batch was
      // never confirmed, so it must be sent again.
      const resetter = await misbehavingReceiver(port, 'reset-after-read')
      await until('a batch read and reset', async () => resetter.state.messagesRead >= 6, 30_000)
      await resetter.close()
      const mid = await syslogStatus(admin)
      assert.equal(mid.cursor, start.cursor, 'the cursor did not move while nothing was confirmed')
      assert.ok(mid.lag >= 6)
      assert.ok(mid.last_error)
      // The real receiver is back: everything arrives.
      await rsyslog.start()
      const s = await waitDelivered(admin, 'delivery after the outage', 60_000)
      await until('rsyslog to write them', async () => receivedSeqs().length >= s.head, 10_000, 50)
      const seqs = assertComplete(s.head)
      assert.equal(new Set(seqs).size, seqs.length, 'nothing reached rsyslog twice')
    })

    it('keeps its cursor across a server SIGKILL: nothing lost, at most one batch again', async () => {
      await createOrgs(admin, 'restart', 10)
      await server.stop('SIGKILL')
      server = await server.restart()
      admin = await new Api(server.url).admin()
      await createOrgs(admin, 'after-restart', 3)
      const s = await waitDelivered(admin, 'delivery after the restart')
      await until('rsyslog to write them', async () => new Set(receivedPositions()).size >= s.head, 10_000, 50)
      const positions = assertComplete(s.head)
      assert.ok(positions.length - new Set(positions).size <= 500, 'duplicates are bounded by one batch')
      // The delivered cursor is in the database, not only in memory.
      const cursor = await withStore(server, async (q) => (await q<{ position: string | number }>("select position from export_cursors where name = 'syslog'"))[0]!.position)
      assert.equal(Number(cursor), s.head)
      if (store === 'embedded') {
        server = await server.restart()
        admin = await new Api(server.url).admin()
        const after = await syslogStatus(admin)
        assert.equal(after.cursor, s.head, 'read back from the database at start')
      }
    })
  })

  describe(`audit export: one forwarder among several servers [${store}]`, {
    skip: store !== 'postgres' ? 'only PostgreSQL can be shared by several server processes' : Rsyslog.available() ? false : 'rsyslogd is not installed',
  }, () => {
    let servers: TestServer[] = []
    let rsyslog: Rsyslog

    before(async () => {
      const port = await freePort()
      rsyslog = new Rsyslog(fs.mkdtempSync(path.join(tmpRoot(), 'rsyslog-')), port)
      await rsyslog.start()
      const env = { CF_LEDGER_AUDIT_SYSLOG_URL: `tcp://127.0.0.1:${port}` }
      const first = await startServer(store, { env })
      // A second process on the same database, with its own data directory.
      const second = await startServer(store, { env, databaseUrl: first.databaseUrl, dataDir: `${first.dataDir}-2` })
      servers = [first, second]
    })
    after(async () => {
      for (const s of servers) await s.stop()
      await rsyslog.stop()
    })

    it('forwards from one process only (the forwarder lease) and fails over when that process is killed', async () => {
      const apis = await Promise.all(servers.map((s) => new Api(s.url).admin()))
      for (const [i, api] of apis.entries()) await createOrgs(api, `multi-${i}`, 5)
      const statuses = await until('a leader', async () => {
        const all = await Promise.all(apis.map((a) => syslogStatus(a)))
        return all.some((x) => x.leader) ? all : undefined
      }, 60_000, 100)
      assert.deepEqual(statuses.map((s) => s.leader).sort(), [false, true], 'exactly one leader')
      const leader = statuses.findIndex((s) => s.leader)
      const s = await waitDelivered(apis[leader]!, 'delivery by the leader')
      const positions = () => rsyslog.lines().map((l) => parseMessage(l).position)
      await until('rsyslog to write them', async () => positions().length >= s.head, 10_000, 50)
      assert.deepEqual([...positions()].sort((a, b) => a - b), oneTo(s.head), 'each event once, not once per process')

      await servers[leader]!.stop('SIGKILL')
      const survivor = apis[1 - leader]!
      await createOrgs(survivor, 'multi-failover', 5)
      const after = await waitDelivered(survivor, 'delivery by the standby', 30_000)
      assert.equal((await syslogStatus(survivor)).leader, true)
      await until('rsyslog to write them', async () => new Set(positions()).size >= after.head, 10_000, 50)
      assert.deepEqual([...new Set(positions())].sort((a, b) => a - b), oneTo(after.head))
    })
  })

  describe(`audit export: syslog over TLS, token expiry [${store}]`, { skip: spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed' }, () => {
    let server: TestServer
    let ops: Api
    let receiver: tls.Server
    const messages: string[] = []

    before(async () => {
      const dir = fs.mkdtempSync(path.join(tmpRoot(), 'tls-syslog-'))
      const key = path.join(dir, 'key.pem')
      const cert = path.join(dir, 'cert.pem')
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
      assert.equal(r.status, 0, String(r.stderr))
      receiver = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (socket) => {
        const chunks: Buffer[] = []
        socket.on('data', (d) => chunks.push(d))
        socket.on('end', () => {
          messages.push(...splitOctetCounted(Buffer.concat(chunks)))
          socket.end()
        })
        socket.on('error', () => undefined)
      })
      await new Promise<void>((res) => receiver.listen(0, '127.0.0.1', res))
      const port = (receiver.address() as net.AddressInfo).port
      server = await startServer(store, {
        env: { CF_LEDGER_AUDIT_SYSLOG_URL: `tls://127.0.0.1:${port}`, CF_LEDGER_AUDIT_SYSLOG_CA: cert, CF_LEDGER_ACCESS_TOKEN_TTL: '4' },
      })
      ops = await clientApi(await new Api(server.url).admin(), 'tls-ops', ['cloud_controller.admin'])
    })
    after(async () => {
      await server.stop()
      await new Promise((r) => receiver.close(r))
    })

    it('delivers over tls:// to a receiver whose certificate is trusted through CF_LEDGER_AUDIT_SYSLOG_CA', async () => {
      expectOk(await ops.post('/v3/organizations', { name: 'tls-org' }), 201)
      const s = await waitDelivered(ops, 'TLS delivery')
      assert.deepEqual(messages.map((m) => parseMessage(m).position), oneTo(s.head))
      assert.equal(new Set(messages.map((m) => parseMessage(m).seq)).size, s.head)
    })

    it('ends a stream when the token it was opened with expires; the consumer resumes with a fresh token', async () => {
      const api = await new Api(server.url).admin()
      const h = await openStream(api, 'after=0&heartbeat=1')
      const r = await Promise.race([h.finished, sleep(15_000).then(() => undefined)])
      assert.ok(r, 'the stream ended')
      assert.equal(r.end, 'done')
      assert.ok(r.events.length >= 1)
      const again = await readAll(await new Api(server.url).admin(), `after=${lastPosition(r.events, 0)}&follow=false`)
      assert.equal(again.status, 200)
    })
  })
}

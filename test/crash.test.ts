import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Api, expectOk } from './support/client.ts'
import { ledgerProblems, readEvents, withStore } from './support/db.ts'
import { startServer, stores, type TestServer } from './support/server.ts'

const WORKERS = 32
const KILL_AFTER = 120
const MAX_REQUESTS = 2000

interface Outcome {
  readonly kind: 'organization' | 'space'
  readonly name: string
  readonly status: number | 'no response'
  readonly guid?: string
}

for (const store of stores()) {
  const skip =
    store === 'embedded'
      ? "issue 2 asks for this against PostgreSQL; the embedded store's durability after a SIGKILL of its host process is not claimed"
      : false
  describe(`SIGKILL during a burst of org and space creations [${store}]`, { skip }, () => {
    const servers: TestServer[] = []
    after(async () => {
      for (const s of servers) await s.stop('SIGKILL')
    })

    it('loses no acknowledged change and leaves no change without its audit event', async (t) => {
      const first = await startServer(store)
      servers.push(first)
      const admin = await new Api(first.url).admin()
      const parent = expectOk(await admin.post('/v3/organizations', { name: 'crash-parent' }), 201).body.guid as string

      // Workers create orgs and spaces as fast as the server answers; the server is killed
      // once KILL_AFTER creations were acknowledged, with up to WORKERS requests in flight.
      const outcomes: Outcome[] = []
      let issued = 0
      let acknowledged = 0
      let killing: Promise<void> | undefined
      const worker = async () => {
        while (!killing && issued < MAX_REQUESTS) {
          const i = issued++
          const kind = i % 2 === 0 ? 'organization' : 'space'
          const name = `crash-${kind}-${i}`
          const body = kind === 'organization' ? { name } : { name, relationships: { organization: { data: { guid: parent } } } }
          try {
            const r = await admin.post(kind === 'organization' ? '/v3/organizations' : '/v3/spaces', body)
            outcomes.push({ kind, name, status: r.status, guid: r.body?.guid })
            if (r.status === 201 && ++acknowledged === KILL_AFTER) killing = first.stop('SIGKILL')
          } catch {
            outcomes.push({ kind, name, status: 'no response' })
          }
        }
      }
      await Promise.all(Array.from({ length: WORKERS }, worker))
      await killing
      assert.ok(killing, 'the burst ended before the server was killed')
      assert.equal(first.process.signalCode, 'SIGKILL')
      const acked = outcomes.filter((o) => o.status === 201)
      const lost = outcomes.filter((o) => o.status === 'no response')
      assert.ok(acked.length >= KILL_AFTER)
      assert.ok(lost.length > 0, 'no request was in flight when the server was killed')
      assert.deepEqual(outcomes.filter((o) => o.status !== 201 && o.status !== 'no response'), [])
      t.diagnostic(`${acked.length} creations acknowledged, ${lost.length} without an answer when the server was killed`)

      const second = await first.restart()
      servers.push(second)
      const again = await new Api(second.url).admin()

      // Every acknowledged creation survived the kill.
      for (const o of acked) {
        const r = await again.get(`/v3/${o.kind === 'organization' ? 'organizations' : 'spaces'}/${o.guid}`)
        assert.equal(r.status, 200, `${o.kind} ${o.name} was acknowledged but is gone`)
        assert.equal(r.body.name, o.name)
      }
      // The restarted server appends to the same chain.
      expectOk(await again.post('/v3/organizations', { name: 'after-restart' }), 201)

      await withStore(second, async (q) => {
        const orgs = await q<{ guid: string; name: string }>("select guid, name from organizations where name like 'crash-%' or name = 'after-restart'")
        const spaces = await q<{ guid: string; name: string }>('select guid, name from spaces where organization_guid = $1', [parent])
        const events = await readEvents(q)
        const creates = (type: string) => {
          const byActee = new Map<string, number>()
          for (const e of events.filter((e) => e.type === type)) byActee.set(e.actee, (byActee.get(e.actee) ?? 0) + 1)
          return byActee
        }
        for (const [rows, type] of [
          [orgs, 'audit.organization.create'],
          [spaces, 'audit.space.create'],
        ] as const) {
          const events = creates(type)
          const rowGuids = new Set(rows.map((r) => r.guid))
          // Each row has exactly one create event, and each create event has its row.
          assert.deepEqual(rows.filter((r) => events.get(r.guid) !== 1).map((r) => r.name), [], `${type}: rows without exactly one event`)
          assert.deepEqual([...events.keys()].filter((g) => !rowGuids.has(g)), [], `${type}: events without their row`)
        }
        // (Requests that got no answer committed whole or not at all: the checks above cover them.)
        assert.deepEqual(await ledgerProblems(q, events), [])
      })
    })
  })
}

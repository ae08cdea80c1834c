// total_results is exact whichever way it is counted: the counters (folded, and deltas not yet
// folded), a selective index count, whole minutes plus partial ones for a plain time window, or
// a capped count of a time window and of its complement. Runs the query layer on each store with
// a tiny cap so every path is taken, and compares with a plain count(*), before and after the
// deltas are folded, including after deletes and after rows were changed behind the server's back.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { foldEventCounts } from '../src/audit/event-counts.ts'
import { countEventsHow, whereSql, type EventFilter } from '../src/queries/events.ts'
import { openStore, type Store } from '../src/store/store.ts'
import { freshStore, stores } from './support/server.ts'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const TYPES = ['audit.app.create', 'audit.app.update', 'audit.space.create', 'audit.organization.update']
const ORGS = ['o1', 'o2', 'o3']
const SPACES = ['s1', 's2', 's3', 's4', 's5', 's6']

for (const store of stores()) {
  describe(`audit event counting [${store}]`, () => {
    let s: Store
    const at = (i: number) => new Date(T0 + i * 1000)

    before(async () => {
      s = await openStore({ databaseUrl: undefined, ...(await freshStore(store)) })
      // 400 events: one a second, spread over orgs, spaces (some org-level) and 40 actees.
      const values = Array.from({ length: 400 }, (_, i) => {
        const org = ORGS[i % 3]!
        const space = i % 5 === 0 ? '' : SPACES[(i % 3) * 2 + (i % 2)]!
        return sql`(${i + 1}, ${crypto.randomUUID()}, ${at(i)}, ${TYPES[i % 4]}, 'actor', 'user', 'n', 'u', ${`actee-${i % 40}`}, 'app', 'a',
          '{}'::jsonb, ${space}, ${org}, 'p', 'h')`
      })
      await sql`insert into events (seq, guid, created_at, type, actor, actor_type, actor_name, actor_username, actee, actee_type,
        actee_name, metadata, space_guid, organization_guid, prev_hash, hash) values ${sql.join(values)}`.execute(s.db)
    })
    after(() => s.close())

    const all = { all: true } as const
    const cases = (): [string, EventFilter, string][] => [
      ['everything', { scope: all, conditions: [], createdAt: [] }, 'counters'],
      ['types', { scope: all, conditions: [{ column: 'type', op: 'in', values: ['audit.app.create', 'audit.space.create'] }], createdAt: [] }, 'counters'],
      ['empty types', { scope: all, conditions: [{ column: 'type', op: 'in', values: [] }], createdAt: [] }, 'counters'],
      ['org + space scope', { scope: { all: false, spaces: ['s1', 's4'], orgs: ['o3'] }, conditions: [], createdAt: [] }, 'counters'],
      ['no roles', { scope: { all: false, spaces: [], orgs: [] }, conditions: [], createdAt: [] }, 'counters'],
      ['v2 type comparison', { scope: all, conditions: [{ column: 'type', op: '>', values: ['audit.app.d'] }], createdAt: [] }, 'counters'],
      ['actees', { scope: all, conditions: [{ column: 'actee', op: 'in', values: ['actee-1', 'actee-2'] }], createdAt: [] }, 'selective'],
      ['guid', { scope: all, conditions: [{ column: 'guid', op: '=', values: ['nope'] }], createdAt: [] }, 'selective'],
      ['recent window', { scope: all, conditions: [], createdAt: [{ gte: [at(395)] }] }, 'minutes'],
      ['old window', { scope: all, conditions: [], createdAt: [{ lt: [at(397)] }] }, 'minutes'],
      ['middle window', { scope: all, conditions: [], createdAt: [{ gt: [at(100)], lt: [at(300)] }] }, 'minutes'],
      ['two windows (v2 q twice)', { scope: all, conditions: [], createdAt: [{ gte: [at(50)] }, { lte: [at(60)] }] }, 'minutes'],
      ['empty window', { scope: all, conditions: [], createdAt: [{ gt: [at(300)], lt: [at(100)] }] }, 'minutes'],
      ['window past the end', { scope: all, conditions: [], createdAt: [{ gt: [at(5000)] }] }, 'minutes'],
      ['recent window, types', { scope: all, conditions: [{ column: 'type', op: 'in', values: TYPES }], createdAt: [{ gte: [at(395)] }] }, 'window-inside'],
      ['old window, types', { scope: all, conditions: [{ column: 'type', op: 'in', values: TYPES }], createdAt: [{ lt: [at(397)] }] }, 'window-complement'],
      ['middle window, types', { scope: all, conditions: [{ column: 'type', op: 'in', values: TYPES }], createdAt: [{ gt: [at(100)], lt: [at(300)] }] }, 'window-full'],
      ['not actees', { scope: all, conditions: [{ column: 'actee', op: 'not in', values: ['actee-3'] }], createdAt: [] }, 'window-complement'],
      ['not actees in a scope and window', {
        scope: { all: false, spaces: ['s2'], orgs: ['o1'] },
        conditions: [{ column: 'actee', op: 'not in', values: ['actee-4', 'actee-7'] }, { column: 'type', op: 'in', values: TYPES.slice(1) }],
        createdAt: [{ gte: [at(10)] }],
      }, 'window-complement'],
      ['whole seconds', { scope: all, conditions: [], createdAt: [{ eq: [at(7), at(9), at(8)] }] }, 'minutes'],
      ['whole seconds in a scope', { scope: { all: false, spaces: [], orgs: ['o1', 'o2'] }, conditions: [], createdAt: [{ eq: [at(7), at(9)] }] }, 'window-inside'],
      ['never', { scope: all, conditions: [], createdAt: [], never: true }, 'counters'],
    ]

    async function check(stage: string) {
      for (const [name, f, how] of cases()) {
        const got = await countEventsHow(s.db, f, 12)
        const want = Number((await sql<{ n: string }>`select count(*) as n from events where ${whereSql(f)}`.execute(s.db)).rows[0]!.n)
        assert.equal(got.n, want, `${stage}: ${name}`)
        if (stage === 'fresh') assert.equal(got.how, how, `${stage}: ${name} counted by ${got.how}`)
      }
    }

    it('counts every filter kind exactly, each by its intended path, before and after folding', async () => {
      await check('fresh')
      const pending = async () => Number((await sql<{ n: string }>`select count(*) as n from event_count_deltas`.execute(s.db)).rows[0]!.n)
      const before = await pending()
      assert.ok(before > 0, 'the insert left deltas to fold')
      assert.equal(await foldEventCounts(s.db), before)
      assert.equal(await pending(), 0)
      await check('folded')
    })

    it('stays exact after deletes (pruning, or a hole) and after rows were changed directly', async () => {
      await sql`delete from events where seq <= 37`.execute(s.db)
      await sql`update events set type = 'audit.app.create', space_guid = 's6' where seq % 7 = 0`.execute(s.db)
      await sql`update events set organization_guid = 'o9' where seq between 200 and 210`.execute(s.db)
      // A hole in the seqs (time windows are counted by minute, never from seq differences).
      await sql`delete from events where seq = 250`.execute(s.db)
      await check('changed')
      await foldEventCounts(s.db)
      await check('changed and folded')
    })
  })
}

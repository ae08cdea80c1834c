// Named prepared statements on the PostgreSQL pool (src/store/prepared-statements.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { isDatabaseUnavailable } from '../src/store/outage.ts'
import { nameStatements, StatementNames } from '../src/store/prepared-statements.ts'
import { freshStore, stores } from './support/server.ts'

describe('StatementNames', () => {
  it('names a text from its third use on, and keeps that name', () => {
    const names = new StatementNames()
    assert.equal(names.nameOf('select $1'), undefined)
    assert.equal(names.nameOf('select $1'), undefined)
    const name = names.nameOf('select $1')
    assert.ok(name)
    assert.equal(names.nameOf('select $1'), name)
    assert.notEqual(names.nameOf('select $2') ?? names.nameOf('select $2') ?? names.nameOf('select $2'), name)
  })

  it('names at most `limit` texts', () => {
    const names = new StatementNames(2)
    const named = ['a', 'b', 'c'].map((t) => [1, 2, 3].map(() => names.nameOf(t)).at(-1))
    assert.ok(named[0] && named[1])
    assert.equal(named[2], undefined)
    assert.equal(names.nameOf('c'), undefined)
  })

  it('never names a forgotten text again', () => {
    const names = new StatementNames()
    for (let i = 0; i < 3; i++) names.nameOf('x')
    names.forget('x')
    for (let i = 0; i < 5; i++) assert.ok(!names.nameOf('x'))
  })
})

describe('a pool that names its statements', { skip: !stores().includes('postgres') && 'PostgreSQL is not among TEST_STORES' }, () => {
  // One checked-out client, called as kysely calls it: query(text, values).
  async function client() {
    const { databaseUrl } = await freshStore('postgres', { empty: true })
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
    const names = new StatementNames()
    pool.on('connect', (c) => nameStatements(c, names))
    const c = await pool.connect()
    return { c, close: async () => (c.release(), await pool.end()) }
  }
  const prepared = async (p: pg.PoolClient) => (await p.query<{ statement: string }>('select statement from pg_prepared_statements', [])).rows.map((r) => r.statement)

  it('prepares a repeated parameterized text once on the connection and answers as before', async () => {
    const { c: p, close } = await client()
    try {
      for (let i = 0; i < 6; i++) assert.deepEqual((await p.query('select $1::int + 1 as n', [i])).rows, [{ n: i + 1 }])
      assert.deepEqual(await prepared(p), ['select $1::int + 1 as n'])
      await p.query('select 1') // no parameters: never named
      assert.deepEqual(await prepared(p), ['select $1::int + 1 as n'])
    } finally {
      await close()
    }
  })

  /** A named `select *` on a table that then gains a column (what a newer server's migration does). */
  async function afterColumnChange(check: (p: pg.PoolClient, text: string) => Promise<void>) {
    const { c: p, close } = await client()
    try {
      await p.query('create table t (id int primary key, a text)', [])
      await p.query(`insert into t values (1, 'x')`, [])
      const text = 'select * from t where id = $1'
      for (let i = 0; i < 4; i++) await p.query(text, [1])
      assert.deepEqual(await prepared(p), [text])
      await p.query('alter table t add column b text', [])
      await check(p, text)
    } finally {
      await close()
    }
  }

  it('after a column change under a named select *, runs it again unnamed at once outside a transaction', () =>
    afterColumnChange(async (p, text) => {
      assert.deepEqual((await p.query(text, [1])).rows, [{ id: 1, a: 'x', b: null }])
    }))

  it('inside a transaction, fails it as a database outage (a 503 to retry) and runs the text unnamed afterwards', () =>
    afterColumnChange(async (p, text) => {
      await p.query('begin', [])
      await assert.rejects(p.query(text, [1]), (err: { code?: string }) => err.code === '0A000' && isDatabaseUnavailable(err))
      await p.query('rollback', [])
      assert.deepEqual((await p.query(text, [1])).rows, [{ id: 1, a: 'x', b: null }])
    }))

  it('counts a rolled-back savepoint as still inside the transaction', () =>
    afterColumnChange(async (p, text) => {
      await p.query('begin', [])
      await p.query('savepoint s', [])
      await p.query('rollback to savepoint s', [])
      await assert.rejects(p.query(text, [1]), (err: { code?: string }) => err.code === '0A000' && isDatabaseUnavailable(err))
      await p.query('rollback', [])
    }))
})

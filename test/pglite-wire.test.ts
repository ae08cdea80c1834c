// The embedded store's byte parameters (src/store/pglite-wire.ts): a query with a Buffer or a file
// range goes to PGlite as wire-protocol messages, bytes in binary format, with the same results and
// errors as any other query.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import { EmbeddedDatabaseError } from '../src/store/pglite-dialect.ts'
import { openStore, type Store } from '../src/store/store.ts'

describe('embedded store byte parameters', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-wire-'))
  let store: Store
  const rows = async () =>
    (
      await sql<{ id: number; label: string | null; at: Date | null; hex: string | null }>`
        select id, label, at, encode(data, 'hex') as hex from wire_t order by id`.execute(store.db)
    ).rows

  before(async () => {
    store = await openStore({ dataDir: path.join(dir, 'data'), databaseUrl: undefined })
    await sql`create table wire_t (id int primary key, label text, at timestamptz, data bytea)`.execute(store.db)
  })
  after(async () => {
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('stores a Buffer, a view into a larger buffer and a file range byte for byte, beside text, dates and NULL', async () => {
    const big = crypto.randomBytes(3 * 1024 * 1024 + 5)
    const file = path.join(dir, 'bytes.bin')
    fs.writeFileSync(file, big)
    const at = new Date('2026-12-03T07:00:00.000Z')
    const r = await sql`insert into wire_t values (${1}, ${'zwölf ✓'}, ${at}, ${Buffer.from([0, 1, 255])})`.execute(store.db)
    assert.equal(r.numAffectedRows, 1n)
    await sql`insert into wire_t values (${2}, ${null}, ${null}, ${big.subarray(10, 20)})`.execute(store.db)
    await sql`insert into wire_t values (${3}, ${'file'}, ${null}, ${{ $file: file, offset: 1024, length: big.length - 1024 }})`.execute(store.db)
    await sql`insert into wire_t values (${4}, ${'empty'}, ${null}, ${Buffer.alloc(0)})`.execute(store.db)
    const got = await rows()
    assert.deepEqual(
      got.map((row) => [row.id, row.label, row.at?.toISOString() ?? null]),
      [[1, 'zwölf ✓', at.toISOString()], [2, null, null], [3, 'file', null], [4, 'empty', null]],
    )
    assert.equal(got[0]!.hex, '0001ff')
    assert.equal(got[1]!.hex, big.subarray(10, 20).toString('hex'))
    assert.equal(got[2]!.hex, big.subarray(1024).toString('hex'))
    assert.equal(got[3]!.hex, '')
    const updated = await sql`update wire_t set data = ${Buffer.from('x')} where id >= ${2}`.execute(store.db)
    assert.equal(updated.numAffectedRows, 3n)
  })

  it('reports errors as other queries do and leaves the session usable, in and out of transactions', async () => {
    await assert.rejects(
      sql`insert into wire_t values (${1}, ${'again'}, ${null}, ${Buffer.from('y')})`.execute(store.db),
      (err: EmbeddedDatabaseError) => err instanceof EmbeddedDatabaseError && err.code === '23505' && err.constraint === 'wire_t_pkey' && /duplicate key/.test(err.message),
    )
    const missing = { $file: path.join(dir, 'bytes.bin'), offset: 0, length: 64 * 1024 * 1024 }
    await assert.rejects(
      store.db.transaction().execute(async (tx) => {
        await sql`insert into wire_t values (${10}, ${'in tx'}, ${null}, ${Buffer.from('z')})`.execute(tx)
        await sql`insert into wire_t values (${11}, ${'short file'}, ${null}, ${missing})`.execute(tx)
      }),
      /ended before byte/,
    )
    assert.deepEqual((await rows()).map((row) => row.id), [1, 2, 3, 4], 'the failed transaction left nothing')
    await store.db.transaction().execute(async (tx) => {
      await sql`insert into wire_t values (${12}, ${'committed'}, ${null}, ${Buffer.from('ok')})`.execute(tx)
    })
    assert.deepEqual((await rows()).map((row) => row.id), [1, 2, 3, 4, 12])
  })
})

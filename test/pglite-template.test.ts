// The embedded store's template (src/store/pglite-template.ts, template-schema.ts): a new store is a
// copy of the build's migrated data directory, placed atomically, that takes its own guids when it
// opens; without a template the caller falls back to initdb.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { LATEST_MIGRATION } from '../src/store/migrate.ts'
import { copyTemplate, templateDir } from '../src/store/pglite-template.ts'
import { openStore } from '../src/store/store.ts'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-template-'))

describe('embedded store template', () => {
  it('gives each store copied from it the migrated schema and guids of its own', async () => {
    const root = tmp()
    const groups: { name: string; guid: string; created_at: Date }[][] = []
    for (const name of ['a', 'b']) {
      const store = await openStore({ dataDir: path.join(root, name), databaseUrl: undefined })
      try {
        const versions = await store.db.selectFrom('schema_migrations').select('version').execute()
        assert.equal(versions.length, LATEST_MIGRATION)
        groups.push(await store.db.selectFrom('environment_variable_groups').select(['name', 'guid', 'created_at']).orderBy('name').execute())
        const cursor = await store.db.selectFrom('export_cursors').select('updated_at').executeTakeFirstOrThrow()
        assert.ok(Date.now() - new Date(cursor.updated_at).getTime() < 120_000, 'the export cursor is dated when the store was made')
      } finally {
        await store.close()
      }
    }
    const [a, b] = groups as [(typeof groups)[0], (typeof groups)[0]]
    assert.deepEqual(a.map((g) => g.name), ['running', 'staging'])
    for (const g of [...a, ...b]) assert.match(g.guid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(new Set([...a, ...b].map((g) => g.guid)).size, 4, 'no guid is shared between stores')
    assert.ok(Date.now() - new Date(a[0]!.created_at).getTime() < 120_000)
  })

  it('is built with the checkout (npm run build) as a migrated data directory', () => {
    const dir = templateDir()
    assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')), `${dir} is missing: run npm run build`)
    assert.ok(fs.existsSync(path.join(dir, 'global', 'pg_control')))
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('partial')), [])
  })

  it('fills an absent or an empty data directory with an exact copy, modes kept, and leaves no partial copy behind', async () => {
    const root = tmp()
    const template = path.join(root, 'template')
    fs.mkdirSync(path.join(template, 'base', '1'), { recursive: true })
    fs.writeFileSync(path.join(template, 'PG_VERSION'), '17\n')
    fs.writeFileSync(path.join(template, 'base', '1', '1259'), Buffer.alloc(8192, 7))
    fs.chmodSync(path.join(template, 'base'), 0o700)
    fs.chmodSync(path.join(template, 'PG_VERSION'), 0o600)
    for (const target of [path.join(root, 'absent'), path.join(root, 'empty')]) {
      if (target.endsWith('empty')) fs.mkdirSync(target)
      assert.equal(await copyTemplate(target, template), true)
      assert.equal(fs.readFileSync(path.join(target, 'PG_VERSION'), 'utf8'), '17\n')
      assert.deepEqual(fs.readFileSync(path.join(target, 'base', '1', '1259')), Buffer.alloc(8192, 7))
      assert.equal(fs.statSync(path.join(target, 'base')).mode & 0o777, 0o700)
      assert.equal(fs.statSync(path.join(target, 'PG_VERSION')).mode & 0o777, 0o600)
    }
    assert.deepEqual(fs.readdirSync(root).sort(), ['absent', 'empty', 'template'])
  })

  it('reports a missing template so the caller runs initdb, and creates nothing', async () => {
    const root = tmp()
    assert.equal(await copyTemplate(path.join(root, 'pg'), path.join(root, 'no-template')), false)
    assert.deepEqual(fs.readdirSync(root), [])
  })
})

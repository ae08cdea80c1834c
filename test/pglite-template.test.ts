// The embedded store's template (src/store/pglite-template.ts): a new store is a copy of the build's
// empty data directory, placed atomically; without a template the caller falls back to initdb.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { copyTemplate, templateDir } from '../src/store/pglite-template.ts'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-template-'))

describe('embedded store template', () => {
  it('is built with the checkout (npm run build) as an initdb-ed data directory', () => {
    const dir = templateDir()
    assert.ok(fs.existsSync(path.join(dir, 'PG_VERSION')), `${dir} is missing: run npm run build`)
    assert.ok(fs.existsSync(path.join(dir, 'global', 'pg_control')))
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('partial')), [])
  })

  it('fills an absent or an empty data directory with an exact copy, and leaves no partial copy behind', () => {
    const root = tmp()
    const template = path.join(root, 'template')
    fs.mkdirSync(path.join(template, 'base', '1'), { recursive: true })
    fs.writeFileSync(path.join(template, 'PG_VERSION'), '17\n')
    fs.writeFileSync(path.join(template, 'base', '1', '1259'), Buffer.alloc(8192, 7))
    for (const target of [path.join(root, 'absent'), path.join(root, 'empty')]) {
      if (target.endsWith('empty')) fs.mkdirSync(target)
      assert.equal(copyTemplate(target, template), true)
      assert.equal(fs.readFileSync(path.join(target, 'PG_VERSION'), 'utf8'), '17\n')
      assert.deepEqual(fs.readFileSync(path.join(target, 'base', '1', '1259')), Buffer.alloc(8192, 7))
    }
    assert.deepEqual(fs.readdirSync(root).sort(), ['absent', 'empty', 'template'])
  })

  it('reports a missing template so the caller runs initdb, and creates nothing', () => {
    const root = tmp()
    assert.equal(copyTemplate(path.join(root, 'pg'), path.join(root, 'no-template')), false)
    assert.deepEqual(fs.readdirSync(root), [])
  })
})

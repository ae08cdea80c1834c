// isoMillis against node-postgres's own timestamptz parsing, for the texts PostgreSQL prints.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { isoMillis } from '../src/store/pg-time.ts'

const driver = (text: string) => (pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (t: string) => Date)(text).toISOString()

describe('isoMillis', () => {
  it('gives what the driver gives, for UTC text and for the rest', () => {
    const texts = [
      '2026-12-04 19:03:01+00',
      '2026-12-04 19:03:01.1+00',
      '2026-12-04 19:03:01.12+00',
      '2026-12-04 19:03:01.123+00',
      '2026-12-04 19:03:01.123999+00',
      '2026-12-04 19:03:01.000001+00',
      '2026-12-04 19:03:01.999999+00',
      '2026-12-31 23:59:59.9995+00',
      '2026-12-04 20:03:01.5+01',
      '2026-12-04 14:33:01.25-04:30',
      '0099-01-01 00:00:00+00',
      '1999-06-30 12:00:00.57+00',
    ]
    for (const t of texts) assert.equal(isoMillis(t), driver(t), t)
    for (let i = 0; i < 20_000; i++) {
      const t = `2026-0${1 + (i % 9)}-1${i % 10} 0${i % 10}:1${i % 10}:2${i % 10}.${String(i * 37).padStart(6, '0').slice(-6)}+00`
      assert.equal(isoMillis(t), driver(t), t)
    }
  })
})

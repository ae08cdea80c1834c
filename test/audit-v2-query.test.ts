// Unit tests of the /v2/events parameter parsing (src/messages/v2-query.ts, src/presenters/v2/pagination.ts): the q grammar's
// splitting and escapes, Ruby-like timestamp parsing, and Addressable's link encoding. No server.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEventQ, parseV2Time, qSegments } from '../src/messages/v2-query.ts'
import { addressableEncode, v2PageUrl } from '../src/presenters/v2/pagination.ts'

describe('v2 events query parsing', () => {
  it('splits q on ; and keeps ;; as a literal ;, dropping empty trailing segments as Ruby does', () => {
    assert.deepEqual(qSegments(['type:a;actee:b']), ['type:a', 'actee:b'])
    assert.deepEqual(qSegments(['type:a;;b']), ['type:a;b'])
    assert.deepEqual(qSegments(['type:a;', 'actee:x']), ['type:a', 'actee:x'])
    assert.deepEqual(qSegments(['']), [])
  })

  it('reads the first operator of each segment, : as equals', () => {
    const f = parseEventQ({ q: ['type:audit.app.update', 'actee IN a,b,', 'space_guid>=s', 'organization_guid<o'] })
    assert.deepEqual(f.conditions, [
      { column: 'type', op: '=', values: ['audit.app.update'] },
      { column: 'actee', op: 'in', values: ['a', 'b'] },
      { column: 'space_guid', op: '>=', values: ['s'] },
      { column: 'organization_guid', op: '<', values: ['o'] },
    ])
    // A colon inside a timestamp value does not split the segment again.
    const t = parseEventQ({ q: 'timestamp>2020-01-01T10:00:00Z' })
    assert.deepEqual(t.createdAt, [{ gt: [new Date('2020-01-01T10:00:00Z')] }])
    assert.equal(parseEventQ({ q: 'type IN ' }).never, true)
    assert.equal(parseEventQ({ q: 'timestamp:' }).never, true)
  })

  it('parses timestamps like Time.parse: dates, zones, a + decoded to a space', () => {
    const utc = (s: string) => new Date(s).toISOString()
    assert.equal(parseV2Time('2014-01-01')!.toISOString(), utc('2014-01-01T00:00:00Z'))
    assert.equal(parseV2Time('2014-01-01 00:00:00-04:00')!.toISOString(), utc('2014-01-01T04:00:00Z'))
    assert.equal(parseV2Time('2014-01-01T00:00:00 02:00')!.toISOString(), utc('2013-12-31T22:00:00Z'))
    assert.equal(parseV2Time('2014-01-01T00:00:00+0530')!.toISOString(), utc('2013-12-31T18:30:00Z'))
    assert.equal(parseV2Time('2014-01-01T12:30:15.250Z')!.toISOString(), '2014-01-01T12:30:15.250Z')
    assert.equal(parseV2Time('2014-01-01 12:30 UTC')!.toISOString(), utc('2014-01-01T12:30:00Z'))
    for (const bad of ['yesterday', '2014-02-30', '2014-13-01', '2014-01-01T25:00:00Z', '']) assert.equal(parseV2Time(bad), undefined, bad)
  })

  it('encodes links as Addressable after normalize', () => {
    assert.equal(addressableEncode('type:audit.app.update'), 'type:audit.app.update')
    assert.equal(addressableEncode('type IN a,b'), 'type%20IN%20a,b')
    assert.equal(addressableEncode('timestamp>=2020-01-01T00:00:00+02:00'), 'timestamp%3E=2020-01-01T00:00:00%2B02:00')
    assert.equal(addressableEncode('a;b&c'), 'a;b%26c')
    assert.equal(
      v2PageUrl('/v2/events', { q: ['b:1', 'a:2'], 'order-by': 'id' }, { page: 1, perPage: 10, direction: 'desc' }, 2),
      '/v2/events?order-by=id&order-direction=desc&page=2&q=b:1&q=a:2&results-per-page=10',
    )
  })
})

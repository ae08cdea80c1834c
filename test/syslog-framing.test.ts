// Syslog framing and drain URLs without a server: SD escaping and octet counting shared by the
// drains and the audit forwarder, and the scheme table's defaults.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseDrainUrl } from '../src/logs/drains/url.ts'
import { SCHEMES } from '../src/logs/drains/schemes.ts'
import { octetCounted, octetFrame, sdValue } from '../src/syslog/framing.ts'

describe('syslog framing', () => {
  it('escapes the three SD-PARAM characters and nothing else', () => {
    assert.equal(sdValue('a"b\\c]d[e=f'), 'a\\"b\\\\c\\]d[e=f')
  })

  it('counts octets, not characters', () => {
    assert.equal(octetFrame('héllo\n'), '7 héllo\n')
    assert.deepEqual(octetCounted('héllo\n'), Buffer.from('7 héllo\n'))
    assert.equal(octetFrame(''), '0 ')
  })
})

describe('drain URLs', () => {
  it('take their default port and transport from the scheme table', () => {
    for (const [scheme, spec] of Object.entries(SCHEMES)) {
      const d = parseDrainUrl(`${scheme}://drain.example.com`)!
      assert.equal(d.scheme, scheme)
      assert.equal(d.port, spec.defaultPort)
    }
    assert.equal(parseDrainUrl('syslog://[::1]:1514')!.host, '::1')
    assert.equal(parseDrainUrl('syslog://[::1]:1514')!.port, 1514)
  })

  it('ignore schemes the agent does not drain, and read the query options', () => {
    assert.equal(parseDrainUrl('ftp://x.example.com'), undefined)
    assert.equal(parseDrainUrl('constructor://x.example.com'), undefined)
    assert.equal(parseDrainUrl('not a url'), undefined)
    assert.equal(parseDrainUrl('syslog://x.example.com?drain-type=metrics')!.logs, false)
    assert.equal(parseDrainUrl('https://x.example.com/p?disable-metadata=true')!.withMetadata, false)
  })
})

// When a server may judge others' leases lapsed (src/cluster/lease.ts): only after its own reads
// have reached the database without a break for a whole lease.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Vantage } from '../src/cluster/lease.ts'

describe('lease vantage', () => {
  it('judges only after a whole lease of successful reads, and starts over after a failed one', async () => {
    let now = 0
    const v = new Vantage(1000, () => now)
    const judged: boolean[] = []
    const ok = () => v.look(async (judge) => void judged.push(judge))
    const failing = () => v.look(async () => Promise.reject(new Error('connection terminated')))
    await ok()
    now = 999
    await ok()
    now = 1000
    await ok()
    now = 1500
    await assert.rejects(failing(), /connection terminated/)
    now = 1600
    await ok()
    now = 2599
    await ok()
    now = 2600
    await ok()
    assert.deepEqual(judged, [false, false, true, false, false, true])
  })
})

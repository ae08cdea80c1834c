// The cluster bus's coalescing (src/cluster/bus.ts): identical notifications while one is in
// flight go out as one, and every call is covered by a send that started after it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { coalescing, type Channel } from '../src/cluster/bus.ts'

describe('cluster bus: coalescing', () => {
  it('sends one notification per burst, one more for calls made while it was in flight, and keeps payloads apart', async () => {
    const started: { at: number; payload: string }[] = []
    let clock = 0
    const release: (() => void)[] = []
    const send = async (_c: Channel, payload: string) => {
      started.push({ at: clock++, payload })
      await new Promise<void>((r) => release.push(r))
    }
    const notify = coalescing(send)
    const calls: { at: number; done: Promise<void> }[] = []
    const call = (payload = '') => calls.push({ at: clock++, done: notify('cf_ledger_task_created', payload) })
    const settle = () => new Promise((r) => setImmediate(r))

    for (let i = 0; i < 5; i++) call()
    await settle()
    assert.equal(started.length, 1, 'a burst of five: one send')
    for (let i = 0; i < 3; i++) call()
    call('other')
    await settle()
    assert.deepEqual(started.map((s) => s.payload), ['', 'other'], 'another payload is not merged; the repeats wait')
    release.shift()!()
    await settle()
    assert.deepEqual(started.map((s) => s.payload), ['', 'other', ''], 'the three calls made during the first send: one more, after it')
    while (release.length) {
      release.shift()!()
      await settle()
    }
    await Promise.all(calls.map((c) => c.done))
    // Each call was followed by a send of its payload that started after it.
    const payloads = ['', '', '', '', '', '', '', '', 'other']
    calls.forEach((c, i) => assert.ok(started.some((s) => s.payload === payloads[i] && s.at > c.at), `call ${i} is covered`))
    assert.equal(started.length, 3)
    call()
    await settle()
    assert.equal(started.length, 4, 'after all went out, the next call sends again')
    release.shift()!()
  })
})

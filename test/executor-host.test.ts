// The isolation description is a pure function of what the executor detected: checked here for
// each mode without a sandbox, a cgroup or a server.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type HostFacts, describe as describeHost } from '../src/executor/host.ts'

const root = { uid: 1001, gid: 1001, name: 'cf-ledger-task', switched: true }
const nonRoot = { uid: 1000, gid: 1000, name: 'dev', switched: false }
const v2 = { version: 'cgroup-v2' as const, memory: true, pids: true, swapLimited: true }
const facts = (f: Partial<HostFacts>): HostFacts => ({
  user: root,
  tools: { setpriv: '/usr/bin/setpriv', bwrapVersion: '0.8.0' },
  cgroups: v2,
  bwrap: { disableUserns: true },
  network: true,
  diskPollMs: 250,
  ...f,
})

describe('executor isolation description', () => {
  it('describes the bwrap sandbox with cgroup v2 limits', () => {
    const info = describeHost(facts({}))
    assert.equal(info.sandbox, 'bwrap')
    assert.equal(info.memoryLimit, 'cgroup-v2')
    assert.equal(info.pidsLimit, 'cgroup-v2')
    assert.equal(info.diskLimit, 'poll+rlimit-fsize')
    assert.deepEqual(info.user, { uid: 1001, gid: 1001, name: 'cf-ledger-task' })
    assert.match(info.isolation, /^bubblewrap 0\.8\.0 sandbox, as uid 1001 \(cf-ledger-task\) with no capabilities and no_new_privs\. /)
    assert.match(info.isolation, /no nested user namespaces/)
    assert.match(info.isolation, /Memory: cgroup-v2 hard limit on memory \+ swap, OOM kills reported/)
    assert.match(info.isolation, /pids\.max \(\+2 for bwrap and the namespace init\)/)
    assert.match(info.isolation, /measured every 250 ms/)
    assert.ok(info.isolation.endsWith('.'))
  })

  it('says when the network is off, and only a sandbox can turn it off', () => {
    assert.match(describeHost(facts({ network: false })).isolation, /Network: none \(a private loopback only\)/)
    assert.equal(describeHost(facts({ network: false })).network, false)
    assert.equal(describeHost(facts({ network: false, bwrap: null })).network, true)
  })

  it('describes a plain process as the server user, without cgroups', () => {
    const info = describeHost(facts({ user: nonRoot, bwrap: null, cgroups: null, tools: { setpriv: null, bwrapVersion: null } }))
    assert.equal(info.sandbox, 'none')
    assert.equal(info.memoryLimit, 'none')
    assert.equal(info.pidsLimit, 'none')
    assert.match(info.isolation, /^Plain process \(no sandbox\), as the server's own user \(uid 1000, dev; the server is not root/)
    assert.doesNotMatch(info.isolation, /no_new_privs/)
    assert.match(info.isolation, /killed by process group and marker variable\./)
    assert.match(info.isolation, /Memory: not limited/)
    assert.match(info.isolation, /Process count: not limited/)
  })

  it('falls back to RLIMIT_NPROC for a switched user without a pids cgroup', () => {
    const info = describeHost(facts({ bwrap: null, cgroups: { version: 'cgroup-v1', memory: true, pids: false, swapLimited: false } }))
    assert.equal(info.pidsLimit, 'rlimit-nproc')
    assert.equal(info.memoryLimit, 'cgroup-v1')
    assert.match(info.isolation, /Memory: cgroup-v1 hard limit, OOM kills reported/)
    assert.match(info.isolation, /killed by process group and cgroup; only the task's sh dies with the server/)
  })
})

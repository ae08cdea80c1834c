// C2SP formats: signed notes and keys (vectors from golang.org/x/mod/sumdb/note's tests and the
// signed-note spec's example), tlog-tiles paths and tile building, checkpoints, cosignatures,
// the .tlog-proof file, and the adversarial suite: every forged or mismatched input is rejected.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { describe, it } from 'node:test'
import { checkpointText, openCheckpoint, parseAnyVkey, parseCheckpointText } from '../src/ledger/checkpoint.ts'
import { cosignerFromSeed } from '../src/ledger/cosignature.ts'
import { consistencyProof, inclusionProof, leafHash, memoryReader, rootOf, treeRoot, verifyConsistency, type Hash } from '../src/ledger/merkle.ts'
import { openNote, parseNote, parseSkey, parseVkey, signerFromSeed, signNote, skeyOf, vkeyOf } from '../src/ledger/note.ts'
import { formatProof, parseProof, verifyProof } from '../src/ledger/proof-file.ts'
import { eventEntryBody } from '../src/ledger/entry-format.ts'
import { eventEntry, MAX_ENTRY_BYTES, type EventFields } from '../src/ledger/leaf.ts'
import { canonicalJson } from '../src/audit/chain.ts'
import { appendLeaves, decodeBundle, edgeTiles, encodeBundle, encodeIndex, parseTilePath, tilePath, tileReader, TILE_WIDTH } from '../src/ledger/tiles.ts'

// golang.org/x/mod sumdb/note/note_test.go
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
const PETER_NOTE = `${PETER_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`
// c2sp.org/signed-note, "Example"
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'
const SPEC_NOTE = 'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n'

describe('signed notes', () => {
  it('reproduces the Go note vectors: key ids, vkey, signature', () => {
    const signer = parseSkey(PETER_SKEY)
    assert.equal(vkeyOf(signer.verifier), PETER_VKEY)
    assert.equal(signNote(PETER_TEXT, [signer]), PETER_NOTE)
    assert.deepEqual(openNote(PETER_NOTE, [parseVkey(PETER_VKEY)]).note.text, PETER_TEXT)
    assert.equal(openNote(SPEC_NOTE, [parseVkey(SPEC_VKEY)]).note.text, 'This is an example message.\n')
  })

  it('round-trips generated keys', () => {
    const seed = crypto.randomBytes(32)
    const s = parseSkey(skeyOf('cf-ledger.example/log', seed))
    assert.equal(vkeyOf(s.verifier), vkeyOf(signerFromSeed('cf-ledger.example/log', seed).verifier))
    assert.equal(parseVkey(vkeyOf(s.verifier)).id, s.id)
  })

  it('rejects mangled keys', () => {
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const b = Buffer.from(PETER_VKEY)
      b[i]! += 1
      assert.throws(() => parseVkey(b.toString()), Error, `byte ${i}`)
    }
    assert.throws(() => parseVkey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), /unknown signature type/)
    assert.throws(() => parseVkey(PETER_VKEY.slice(0, -2)))
  })

  it('ignores unknown keys, rejects a bad signature from a known key, and needs one valid signature', () => {
    const peter = parseVkey(PETER_VKEY)
    const other = signerFromSeed('PeterNeumann', crypto.randomBytes(32)) // same name, other id
    assert.throws(() => openNote(PETER_NOTE, [other.verifier]), /no signature from a trusted key/)
    const tampered = PETER_NOTE.replace('problem is', 'problem was')
    assert.throws(() => openNote(tampered, [peter]), /invalid signature/)
    const withUnknown = `${PETER_NOTE}— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n`
    assert.equal(openNote(withUnknown, [peter]).verified.length, 1)
    for (const bad of ['no signatures\n', `${PETER_TEXT}\n`, `${PETER_TEXT}\n— PeterNeumann\n`, `${PETER_TEXT}\n— Bad Name x08g=\n`, PETER_NOTE.slice(0, -1), `a\u0007b\n${PETER_NOTE}`]) {
      assert.throws(() => openNote(bad, [peter]), Error, JSON.stringify(bad))
    }
  })
})

describe('event entries', () => {
  const event = (over: Partial<EventFields> = {}): EventFields => ({
    seq: 42, guid: crypto.randomUUID(), created_at: new Date('2026-12-01T15:00:00.123Z'), type: 'audit.app.update',
    actor: 'u-1', actor_type: 'user', actor_name: 'admin', actor_username: 'admin', actee: 'a-1', actee_type: 'app', actee_name: 'my-app',
    metadata: { request: { name: 'x' } }, space_guid: 's-1', organization_guid: 'o-1', ...over,
  })

  it('is the canonical JSON of the entry object, whatever the fields hold', () => {
    const cases = [
      event(),
      event({ actor_name: null, actor_username: null, metadata: {} }),
      event({ actee_name: 'ü "quoted" \u2028 \n', metadata: { 'é': 1, Z: [null, true, 1.5, { b: 2, a: '😀' }], a: { '': 0 } } }),
      event({ metadata: undefined as unknown, actor_username: undefined as unknown as null }),
      event({ seq: 9_007_199_254_740_991, type: 'audit.space.delete-request' }),
    ]
    for (const e of cases) {
      assert.equal(eventEntry(e).toString('utf8'), canonicalJson(eventEntryBody({ ...e, created_at: e.created_at.toISOString() })))
      assert.deepEqual(eventEntry({ ...e, created_at: e.created_at.toISOString() }), eventEntry(e), 'created_at as its ISO text')
    }
    assert.equal(JSON.parse(eventEntry(cases[0]!).toString('utf8')).kind, 'cf-ledger/event@v1')
  })

  it('sorts keys by UTF-16 code units at every level and drops undefined members (RFC 8785 §3.2.3)', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' }
    assert.equal(
      canonicalJson(value),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
    assert.equal(canonicalJson({ b: [3, undefined, { y: 1, x: undefined }], a: { d: null, c: 'x' }, u: undefined }), '{"a":{"c":"x","d":null},"b":[3,null,{"y":1}]}')
    assert.equal(canonicalJson([]), '[]')
    assert.equal(canonicalJson({}), '{}')
  })

  it('replaces metadata by its SHA-256 when the entry would not fit a bundle', () => {
    const big = eventEntry(event({ metadata: { blob: 'x'.repeat(MAX_ENTRY_BYTES) } }))
    const parsed = JSON.parse(big.toString('utf8')) as Record<string, unknown>
    assert.ok(big.length <= MAX_ENTRY_BYTES)
    assert.equal(parsed.metadata, undefined)
    assert.equal(parsed.metadata_sha256, crypto.createHash('sha256').update(canonicalJson({ blob: 'x'.repeat(MAX_ENTRY_BYTES) })).digest('hex'))
  })
})

describe('tlog-tiles', () => {
  it('encodes and parses tile paths as the spec', () => {
    assert.equal(encodeIndex(1234067), 'x001/x234/067')
    assert.equal(encodeIndex(0), '000')
    assert.equal(tilePath(0, 1234067, 256), 'tile/0/x001/x234/067')
    assert.equal(tilePath('entries', 5, 17), 'tile/entries/005.p/17')
    assert.deepEqual(parseTilePath('2/x001/x234/067.p/3'), { level: 2, index: 1234067, width: 3 })
    assert.deepEqual(parseTilePath('entries/000'), { level: 'entries', index: 0, width: 256 })
    for (const bad of ['00/000', '64/000', '0/1', '0/x000/001', '0/000.p/0', '0/000.p/256', '0/000.p/01', '0/001/002', 'entries/x1/000']) {
      assert.equal(parseTilePath(bad), undefined, bad)
    }
  })

  it('lays out a tree of 70,000 as the spec example', () => {
    assert.deepEqual(edgeTiles(70000), [
      { level: 0, index: 273, width: 112 },
      { level: 1, index: 1, width: 17 },
      { level: 2, index: 0, width: 1 },
    ])
    assert.deepEqual(edgeTiles(256), [{ level: 1, index: 0, width: 1 }])
  })

  it('builds tiles incrementally that give the same roots and proofs as the tree itself', async () => {
    const total = TILE_WIDTH * TILE_WIDTH + 300 // crosses a level-1 tile: three tile levels
    const leaves = Array.from({ length: total }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)))
    const store = new Map<string, Buffer>()
    let size = 0
    for (const batch of [1, 255, 1, 700, 64000, total - 64957]) {
      for (const t of appendLeaves(size, store, leaves.slice(size, size + batch))) store.set(`${t.level}/${t.index}`, t.bytes)
      size += batch
    }
    assert.equal(size, total)
    assert.equal(store.get('1/0')!.length, 8192, 'a full level-1 tile is 8 KiB')
    assert.equal(store.get('2/0')?.length, 32)
    const fromTiles = tileReader(async (ids) => new Map(ids.map((t) => [`${t.level}/${t.index}`, store.get(`${t.level}/${t.index}`)!])))
    const memory = memoryReader(leaves)
    assert.deepEqual(await treeRoot(total, fromTiles), rootOf(leaves))
    for (const n of [1, 256, 257, 65536, total]) assert.deepEqual(await treeRoot(n, fromTiles), await treeRoot(n, memory), `root ${n}`)
    for (const [m, n] of [[0, total], [65535, total], [300, 65800], [total - 1, total]] as const) {
      assert.deepEqual(await inclusionProof(m, n, fromTiles), await inclusionProof(m, n, memory), `inclusion ${m}@${n}`)
    }
    for (const [m, n] of [[1, total], [256, 65537], [65600, total]] as const) {
      assert.deepEqual(await consistencyProof(m, n, fromTiles), await consistencyProof(m, n, memory), `consistency ${m}→${n}`)
    }
  })

  it('encodes entry bundles as uint16 length-prefixed entries', () => {
    const entries = [Buffer.from(''), Buffer.from('a'), Buffer.alloc(300, 7)]
    const b = encodeBundle(entries)
    assert.equal(b.readUInt16BE(0), 0)
    assert.deepEqual(decodeBundle(b), entries)
    assert.throws(() => decodeBundle(b.subarray(0, b.length - 1)))
    assert.throws(() => encodeBundle([Buffer.alloc(65536)]))
  })
})

describe('checkpoints, cosignatures and proof files', () => {
  const origin = 'ledger.example/log'
  const log = signerFromSeed(origin, crypto.createHash('sha256').update('log').digest())
  const witness = cosignerFromSeed('witness.example/w1', crypto.createHash('sha256').update('w1').digest())
  const entries = Array.from({ length: 21 }, (_, i) => Buffer.from(`{"n":${i}}`))
  const leaves = entries.map(leafHash)
  const read = memoryReader(leaves)
  const checkpointAt = async (n: number, signer = log, o = origin) => signNote(checkpointText({ origin: o, size: n, root: await treeRoot(n, read) }), [signer])
  const cosigned = (note: string) => {
    const text = Buffer.from(parseNote(note).text)
    const sig = Buffer.concat([Buffer.alloc(4), witness.sign(text)])
    sig.writeUInt32BE(witness.id)
    return `${note}— ${witness.name} ${sig.toString('base64')}\n`
  }

  it('formats, parses and opens a checkpoint with its cosignature', async () => {
    const note = cosigned(await checkpointAt(21))
    const cp = openCheckpoint(note, origin, [log.verifier], [witness.verifier])
    assert.equal(cp.size, 21)
    assert.deepEqual(cp.root, rootOf(leaves))
    assert.equal(cp.cosigners.length, 1)
    assert.equal(parseAnyVkey(vkeyOf(witness.verifier)).id, witness.id)
    assert.throws(() => parseCheckpointText('o\n01\nAAAA\n'))
    assert.throws(() => parseCheckpointText(`o\n1\n${Buffer.alloc(31).toString('base64')}\n`))
  })

  it('verifies a .tlog-proof, and rejects it after any byte changes', async () => {
    // The extra line carries the entry itself, so the leaf hash is recomputed from it.
    const file = formatProof({ extra: entries[5]!, index: 5, proof: await inclusionProof(5, 21, read), checkpoint: cosigned(await checkpointAt(21)) })
    const policy = { origin, logKeys: [log.verifier], witnesses: [witness.verifier] }
    const check = (bytes: string | Buffer) => {
      const p = parseProof(bytes)
      return verifyProof(p, leafHash(p.extra ?? Buffer.alloc(0)), policy)
    }
    assert.equal(check(file).size, 21)
    const bytes = Buffer.from(file)
    let rejected = 0
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes)
      b[i] = b[i]! ^ 0x01
      try {
        check(b)
      } catch {
        rejected++
        continue
      }
      assert.fail(`a change at byte ${i} (${JSON.stringify(file.slice(Math.max(0, i - 10), i + 10))}) was accepted`)
    }
    assert.equal(rejected, bytes.length)
  })

  it('rejects every adversarial case', async () => {
    const good = { index: 5, proof: await inclusionProof(5, 21, read), checkpoint: await checkpointAt(21) }
    const policy = { origin, logKeys: [log.verifier] }
    const other = signerFromSeed(origin, crypto.randomBytes(32))
    const rejects = async (what: string, p: typeof good, leaf: Hash = leaves[5]!, pol: Parameters<typeof verifyProof>[2] = policy) =>
      assert.throws(() => verifyProof(parseProof(formatProof(p)), leaf, pol), Error, what)
    assert.doesNotThrow(() => verifyProof(parseProof(formatProof(good)), leaves[5]!, policy))
    await rejects('wrong leaf', good, leaves[6]!)
    await rejects('wrong index', { ...good, index: 6 })
    await rejects('truncated proof', { ...good, proof: good.proof.slice(0, -1) })
    await rejects('padded proof', { ...good, proof: [...good.proof, leaves[0]!] })
    await rejects('wrong size: a checkpoint for another tree size', { ...good, checkpoint: await checkpointAt(20) })
    await rejects('leaf count mismatch: the size line edited', { ...good, checkpoint: good.checkpoint.replace('\n21\n', '\n22\n') })
    await rejects('unknown key', { ...good, checkpoint: await checkpointAt(21, other) })
    await rejects('signature over another origin', { ...good, checkpoint: await checkpointAt(21, signerFromSeed('elsewhere.example/log', crypto.randomBytes(32)), 'elsewhere.example/log') }, leaves[5]!, {
      ...policy,
      logKeys: [...policy.logKeys, signerFromSeed('elsewhere.example/log', crypto.randomBytes(32)).verifier],
    })
    await rejects('the log key under another origin', { ...good, checkpoint: signNote(checkpointText({ origin: 'elsewhere.example/log', size: 21, root: await treeRoot(21, read) }), [log]) })
    await rejects('missing witness cosignature', good, leaves[5]!, { ...policy, witnesses: [witness.verifier] })
  })

  it('rejects an older or forked checkpoint against the last verified one', async () => {
    const forked = [...leaves.slice(0, 10), leafHash(Buffer.from('rewritten')), ...leaves.slice(11)]
    const forkRead = memoryReader(forked)
    const r10 = await treeRoot(10, read)
    const r21 = await treeRoot(21, read)
    verifyConsistency(10, 21, await consistencyProof(10, 21, read), r10, r21)
    assert.throws(() => verifyConsistency(21, 10, [], r21, r10), /smaller/)
    // A fork at leaf 10: the rewritten log cannot prove it extends the size-11 tree a client saw.
    const r11 = await treeRoot(11, read)
    const forkProof = await consistencyProof(11, 21, forkRead)
    const forkRoot = await treeRoot(21, forkRead)
    assert.throws(() => verifyConsistency(11, 21, forkProof, r11, forkRoot))
    assert.throws(() => verifyConsistency(21, 21, [], r21, forkRoot))
    // ...while it still extends size 10, which the fork did not touch.
    verifyConsistency(10, 21, await consistencyProof(10, 21, forkRead), r10, forkRoot)
  })
})

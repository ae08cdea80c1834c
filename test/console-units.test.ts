// Pure parts of the web console, in Node: the ANSI parser and control-character rendering, and the
// in-browser verifier's hash and signature checks against what the server's own code produces
// (Node's WebCrypto is the same API the browser uses).
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { describe, it } from 'node:test'
import { eventHash } from '../src/audit/chain.ts'
import { canonicalJson, chainBody, checkpointText } from '../src/audit/chain-format.ts'
import { keyIdOf, signCheckpoint } from '../src/audit/checkpoints.ts'
import { parseAnsi, stripAnsi } from '../src/console/app/ansi.ts'
import { visible } from '../src/console/app/format.ts'
import {
  ed25519Verify,
  fromBase64,
  keyIdOf as browserKeyId,
  sha256Hex,
} from '../src/console/app/verify/webcrypto.ts'
import {
  leafHash as browserLeafHash,
  parseCheckpointBody,
  parseNote,
  parseProofFile,
  parseVkey,
  rootFromInclusion,
  verifySignature,
} from '../src/console/app/verify/tlog.ts'
import { checkpointText as checkpointBodyText } from '../src/ledger/checkpoint.ts'
import { cosignerFromSeed } from '../src/ledger/cosignature.ts'
import { eventEntryBody } from '../src/ledger/entry-format.ts'
import { eventEntry } from '../src/ledger/leaf.ts'
import { inclusionProof, leafHash, memoryReader, treeRoot } from '../src/ledger/merkle.ts'
import { signerFromSeed, signNote, vkeyOf } from '../src/ledger/note.ts'
import { formatProof } from '../src/ledger/proof-file.ts'

describe('console: ANSI and control characters', () => {
  it('turns SGR colour codes into classes and keeps the text', () => {
    assert.deepEqual(parseAnsi('\u001b[1;31mred\u001b[0m plain \u001b[38;5;4mblue\u001b[39m'), [
      { text: 'red', cls: 'ansi-fg-1 ansi-bold' },
      { text: ' plain ', cls: '' },
      { text: 'blue', cls: 'ansi-fg-4' },
    ])
    assert.deepEqual(parseAnsi('\u001b[92;41mx'), [{ text: 'x', cls: 'ansi-fg-10 ansi-bg-1' }])
    assert.equal(stripAnsi('\u001b[31mred\u001b[m'), 'red')
  })

  it('shows every other escape and control character as a visible picture', () => {
    assert.deepEqual(parseAnsi('\u001b]0;title\u0007 \u001b[2J\bx'), [
      { text: '\u241b]0;title\u2407 \u241b[2J\u2408x', cls: '' },
    ])
    assert.equal(visible('a\tb\u0000\u007f'), 'a\tb\u2400\u2421')
    assert.deepEqual(parseAnsi('<script>alert(1)</script>'), [
      { text: '<script>alert(1)</script>', cls: '' },
    ])
  })
})

describe('console: the verifier agrees with the server', () => {
  const fields = {
    seq: 7,
    guid: 'e-1',
    created_at: new Date('2026-11-24T15:02:11.041Z'),
    type: 'audit.app.task.create',
    actor: 'u-1',
    actor_type: 'user',
    actor_name: 'dana',
    actor_username: 'dana',
    actee: 'a-1',
    actee_type: 'app',
    actee_name: 'billing',
    metadata: { task_guid: 't-1', request: { name: 'x', command: '[PRIVATE DATA HIDDEN]' } },
    space_guid: 's-1',
    organization_guid: 'o-1',
  }

  it('recomputes the server hash with WebCrypto, and a different one for an edited field', async () => {
    const prev = 'ab'.repeat(32)
    const server = eventHash(prev, fields)
    const text = { ...fields, created_at: fields.created_at.toISOString() }
    assert.equal(await sha256Hex(`${prev}\n${chainBody(text)}`), server)
    assert.notEqual(
      await sha256Hex(`${prev}\n${chainBody({ ...text, actor_name: 'mallory' })}`),
      server,
    )
  })

  it('verifies a server-signed checkpoint under its key id and rejects a changed one', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
    const key = { privateKey, publicKey, keyId: keyIdOf(publicKey) }
    const cp = signCheckpoint(key, 42, 'cd'.repeat(32), new Date())
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))
    assert.equal(await browserKeyId(spki), cp.key_id)
    assert.equal(
      await ed25519Verify(
        spki,
        fromBase64(cp.signature),
        checkpointText(cp.seq, cp.hash, cp.signed_at),
      ),
      true,
    )
    assert.equal(
      await ed25519Verify(
        spki,
        fromBase64(cp.signature),
        checkpointText(43, cp.hash, cp.signed_at),
      ),
      false,
    )
  })
})

describe('console: the tlog-proof checks agree with the server', () => {
  const log = signerFromSeed('ledger.test/console', crypto.randomBytes(32))
  const witness = cosignerFromSeed('witness.test/w', crypto.randomBytes(32))
  const entries = Array.from({ length: 13 }, (_, i) => Buffer.from(`{"n":${i}}`))
  const leaves = entries.map((e) => leafHash(e))

  async function proofFor(index: number) {
    const size = leaves.length
    const read = memoryReader(leaves)
    const text = checkpointBodyText({ origin: log.name, size, root: await treeRoot(size, read) })
    const signed = signNote(text, [log])
    const id = Buffer.alloc(4)
    id.writeUInt32BE(witness.id)
    const cosig = Buffer.concat([id, witness.sign(Buffer.from(text))]).toString('base64')
    const checkpoint = `${signed}\u2014 ${witness.name} ${cosig}\n`
    return formatProof({ extra: entries[index], index, proof: await inclusionProof(index, size, read), checkpoint })
  }

  it('parses the proof, verifies the note signature, the cosignature and the inclusion proof', async () => {
    for (const index of [0, 5, 12]) {
      const p = parseProofFile(await proofFor(index))
      const note = parseNote(p.checkpoint)
      const cp = parseCheckpointBody(note.text)
      const logKey = await parseVkey(vkeyOf(log.verifier))
      const wKey = await parseVkey(vkeyOf(witness.verifier))
      const sig = (k: typeof logKey) => note.sigs.find((s) => s.name === k.name && s.id === k.id)!.sig
      assert.equal((await verifySignature(logKey, note.text, sig(logKey))).ok, true)
      const co = await verifySignature(wKey, note.text, sig(wKey))
      assert.ok(co.ok && Math.abs(co.time!.getTime() - Date.now()) < 5000)
      assert.equal((await verifySignature(logKey, note.text.replace('13', '14'), sig(logKey))).ok, false)
      const root = await rootFromInclusion(p.index, cp.size, await browserLeafHash(p.extra!), p.proof)
      assert.deepEqual(Buffer.from(root), Buffer.from(cp.root))
      const other = await rootFromInclusion(p.index, cp.size, await browserLeafHash(Buffer.from('{"n":99}')), p.proof)
      assert.notDeepEqual(Buffer.from(other), Buffer.from(cp.root))
    }
    await assert.rejects(parseVkey(vkeyOf(log.verifier).replace(/\+[0-9a-f]{8}\+/, '+00000000+')), /key id/)
  })

  it('recomputes an event leaf hash as the server does', async () => {
    const e = {
      seq: 7, guid: 'g', created_at: new Date('2026-12-01T10:00:00.123Z'), type: 'audit.app.task.create',
      actor: 'u', actor_type: 'user', actor_name: 'dana', actor_username: 'dana', actee: 'a', actee_type: 'app',
      actee_name: 'billing', metadata: { task_guid: 't', z: [1, { b: 2, a: 'é' }] }, space_guid: 's', organization_guid: 'o',
    }
    const browser = await browserLeafHash(new TextEncoder().encode(canonicalJson(eventEntryBody({ ...e, created_at: e.created_at.toISOString() }))))
    assert.deepEqual(Buffer.from(browser), leafHash(eventEntry(e)))
  })
})

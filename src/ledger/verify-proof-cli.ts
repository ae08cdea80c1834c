// `cf-ledger verify-proof FILE --key VKEY [--witness VKEY…]`: checks a task's .tlog-proof offline
// against the log's verifier key and the witnesses' cosignature keys, and prints what the proven
// leaf says. Exit status: 0 proven, 1 the proof does not verify, 2 could not read the inputs.
import fs from 'node:fs'
import { parseAnyVkey } from './checkpoint.ts'
import { leafHash } from './merkle.ts'
import { parseNote } from './note.ts'
import { parseProof, verifyProof } from './proof-file.ts'
import { TASK_RUN_ENTRY_KIND } from './task-leaf.ts'
import { COLLECTED_TASK_RUN_KIND } from '../collect/entries.ts'

export interface VerifyProofOptions {
  readonly key: readonly string[]
  readonly witness?: readonly string[]
  /** How many of the witnesses must have cosigned; default all given. */
  readonly quorum?: number
  /** The task the proof must be about. */
  readonly task?: string
  readonly json?: boolean
}

/** A vkey given inline or as a file holding one. */
export function readVkey(value: string) {
  const text = value.includes('+') || !fs.existsSync(value) ? value : fs.readFileSync(value, 'utf8')
  return parseAnyVkey(text.trim())
}

interface TaskRun {
  kind: string
  task_guid: string
  sequence_id: number
  name: string
  state: string
  failure_reason: string | null
  exit_status: number | null
  actor: { name?: string; username?: string; guid: string }
  target: { app: { name: string }; space: { name: string }; organization: { name: string } }
  command_fingerprint: string | null
  started_at: string | null
  finished_at: string | null
  output: { sha256: string; bytes: number } | null
  events: { guid: string; type: string }[]
}

export function verifyProofFile(bytes: Buffer, opts: VerifyProofOptions): { entry: TaskRun; size: number; cosigners: string[] } {
  const proof = parseProof(bytes)
  if (!proof.extra) throw new Error('the proof carries no entry (extra line)')
  const logKeys = opts.key.map(readVkey)
  const origin = parseNote(proof.checkpoint).text.split('\n')[0]!
  const witnesses = (opts.witness ?? []).map(readVkey)
  const cp = verifyProof(proof, leafHash(proof.extra), { origin, logKeys, witnesses, quorum: opts.quorum })
  if (!logKeys.some((k) => k.name === origin)) throw new Error(`no trusted key for origin ${origin}`)
  const entry = JSON.parse(proof.extra.toString('utf8')) as TaskRun
  if (entry.kind !== TASK_RUN_ENTRY_KIND && entry.kind !== COLLECTED_TASK_RUN_KIND) throw new Error(`the proven entry is a ${entry.kind}, not a task run`)
  if (opts.task && entry.task_guid !== opts.task) throw new Error(`the proof is for task ${entry.task_guid}, not ${opts.task}`)
  return { entry, size: cp.size, cosigners: cp.cosigners.map((c) => c.name) }
}

export function verifyProofCommand(file: string, opts: VerifyProofOptions): number {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(file)
    opts.key.forEach(readVkey)
    opts.witness?.forEach(readVkey)
  } catch (err) {
    console.error(`cf-ledger verify-proof: ${(err as Error).message}`)
    return 2
  }
  try {
    const r = verifyProofFile(bytes, opts)
    if (opts.json) {
      console.log(JSON.stringify({ ok: true, tree_size: r.size, cosigned_by: r.cosigners, entry: r.entry }, null, 2))
      return 0
    }
    const e = r.entry
    console.log(`cf-ledger verify-proof: OK: task ${e.task_guid} is leaf of a log of ${r.size} signed by the trusted key${r.cosigners.length ? `, cosigned by ${r.cosigners.join(', ')}` : ''}`)
    console.log(`  task:     #${e.sequence_id} ${e.name} on ${e.target.app.name} (${e.target.organization.name}/${e.target.space.name})`)
    console.log(`  actor:    ${e.actor.username ?? e.actor.name ?? e.actor.guid}`)
    console.log(`  command:  ${e.command_fingerprint ?? 'no fingerprint'}`)
    console.log(`  outcome:  ${e.state}${e.exit_status === null ? '' : ` (exit ${e.exit_status})`}${e.failure_reason ? `: ${e.failure_reason}` : ''}`)
    console.log(`  ran:      ${e.started_at ?? '-'} .. ${e.finished_at ?? '-'}`)
    console.log(`  output:   ${e.output ? `sha256 ${e.output.sha256} (${e.output.bytes} bytes)` : 'none recorded'}`)
    console.log(`  events:   ${e.events.map((x) => x.type).join(', ')}`)
    return 0
  } catch (err) {
    if (opts.json) console.log(JSON.stringify({ ok: false, problem: (err as Error).message }))
    else console.error(`cf-ledger verify-proof: FAILED: ${(err as Error).message}`)
    return 1
  }
}

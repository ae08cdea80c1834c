// C2SP checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is the origin, the tree
// size and the base64 root hash, one per line.
import { cosignatureVerifier } from './cosignature.ts'
import { HASH_SIZE, type Hash } from './merkle.ts'
import { NoteError, openNote, parseVkey, strictBase64, type Note, type Verifier } from './note.ts'

export interface CheckpointBody {
  readonly origin: string
  readonly size: number
  readonly root: Hash
}

export function checkpointText(c: CheckpointBody): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`
}

export function parseCheckpointText(text: string): CheckpointBody {
  const lines = text.split('\n')
  if (lines.length < 4 || lines.at(-1) !== '') throw new NoteError('a checkpoint is origin, size and root hash lines')
  const [origin, size, root] = lines as [string, string, string]
  if (!origin || /\s/u.test(origin)) throw new NoteError('bad checkpoint origin')
  if (!/^(0|[1-9]\d*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new NoteError('bad checkpoint tree size')
  const hash = strictBase64(root)
  if (!hash || hash.length !== HASH_SIZE) throw new NoteError('bad checkpoint root hash')
  if (lines.slice(3, -1).some((l) => l === '')) throw new NoteError('checkpoint extension lines must be non-empty')
  return { origin, size: Number(size), root: hash }
}

/** A vkey for a log key (0x01) or a witness cosignature key (0x04). */
export const parseAnyVkey = (vkey: string): Verifier => parseVkey(vkey, cosignatureVerifier)

export interface OpenedCheckpoint extends CheckpointBody {
  readonly note: Note
  /** The witness verifiers whose cosignatures verified. */
  readonly cosigners: Verifier[]
}

/**
 * Opens a checkpoint: it must carry a valid signature by one of the log's keys, whose name is the
 * origin; witness cosignatures known to `witnesses` are verified too (a bad one rejects the note).
 */
export function openCheckpoint(input: string | Buffer, origin: string, logKeys: readonly Verifier[], witnesses: readonly Verifier[] = []): OpenedCheckpoint {
  const { note, verified } = openNote(input, [...logKeys, ...witnesses])
  if (!verified.some((v) => logKeys.includes(v))) throw new NoteError('the checkpoint is not signed by the log key')
  const body = parseCheckpointText(note.text)
  if (body.origin !== origin) throw new NoteError(`the checkpoint is for origin ${body.origin}, not ${origin}`)
  return { ...body, note, cosigners: verified.filter((v) => witnesses.includes(v)) }
}

// `cf-ledger witness`: a small C2SP tlog-witness (c2sp.org/tlog-witness) serving add-checkpoint.
// It trusts a fixed set of log keys (the origin is the key name), keeps the latest cosigned
// checkpoint per origin in its own directory, and checks-and-persists atomically: requests are
// handled one at a time and the new state is fsynced and renamed into place before the answer.
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseCheckpointText } from './checkpoint.ts'
import { cosignerFromSeed, type Cosigner } from './cosignature.ts'
import { EMPTY_ROOT, HASH_SIZE, verifyConsistency } from './merkle.ts'
import { NoteError, openNote, parseNote, signatureLine, strictBase64, vkeyOf, type Verifier } from './note.ts'

export interface WitnessState {
  readonly size: number
  /** base64 root hash */
  readonly root: string
  readonly note: string
}

export class WitnessError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: string,
    readonly contentType?: string,
  ) {
    super(message)
  }
}

/** Parses the add-checkpoint body: `old N`, up to 63 proof lines, a blank line, the checkpoint. */
export function parseAddCheckpoint(body: string): { old: number; proof: Buffer[]; checkpoint: string } {
  const blank = body.indexOf('\n\n')
  if (blank < 0) throw new WitnessError(400, 'the body needs a blank line before the checkpoint')
  const head = body.slice(0, blank).split('\n')
  const m = /^old (0|[1-9]\d*)$/.exec(head.shift() ?? '')
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new WitnessError(400, 'the first line must be `old <size>`')
  if (head.length > 63) throw new WitnessError(400, 'more than 63 consistency proof lines')
  const proof = head.map((l) => {
    const h = strictBase64(l)
    if (!h || h.length !== HASH_SIZE) throw new WitnessError(400, 'a consistency proof line is not a base64 SHA-256 hash')
    return h
  })
  return { old: Number(m[1]), proof, checkpoint: body.slice(blank + 2) }
}

/** The witness's decision for one request against the stored state; throws WitnessError to refuse. */
export function checkAddCheckpoint(
  req: { old: number; proof: Buffer[]; checkpoint: string },
  logKeys: readonly Verifier[],
  stored: (origin: string) => WitnessState | undefined,
): { origin: string; state: WitnessState } {
  let text: string
  try {
    text = parseNote(req.checkpoint).text
  } catch (err) {
    throw new WitnessError(400, `malformed checkpoint: ${(err as Error).message}`)
  }
  const origin = text.split('\n')[0]!
  const keys = logKeys.filter((k) => k.name === origin)
  if (!keys.length) throw new WitnessError(404, `unknown log origin ${origin}`)
  try {
    openNote(req.checkpoint, keys)
  } catch (err) {
    throw new WitnessError(403, (err as NoteError).message)
  }
  let cp
  try {
    cp = parseCheckpointText(text)
  } catch (err) {
    throw new WitnessError(400, `malformed checkpoint: ${(err as Error).message}`)
  }
  if (req.old > cp.size) throw new WitnessError(400, `old size ${req.old} is larger than the checkpoint size ${cp.size}`)
  const last = stored(origin)
  const lastSize = last?.size ?? 0
  if (req.old !== lastSize) throw new WitnessError(409, `the latest cosigned size is ${lastSize}`, `${lastSize}\n`, 'text/x.tlog.size')
  if (cp.size === 0 && !cp.root.equals(EMPTY_ROOT)) throw new WitnessError(422, 'a checkpoint of size 0 must have the empty root')
  if (req.old === 0) {
    if (req.proof.length) throw new WitnessError(422, 'the proof from size 0 must be empty')
  } else {
    const lastRoot = Buffer.from(last!.root, 'base64')
    try {
      verifyConsistency(req.old, cp.size, req.proof, lastRoot, cp.root)
    } catch (err) {
      throw new WitnessError(422, `not consistent with the cosigned checkpoint of size ${req.old}: ${(err as Error).message}`)
    }
  }
  return { origin, state: { size: cp.size, root: cp.root.toString('base64'), note: req.checkpoint } }
}

/** The witness's per-origin state files, written by fsync + rename. */
export class WitnessStore {
  constructor(private readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o700 })
  }

  private file(origin: string): string {
    return path.join(this.dir, 'logs', `${crypto.createHash('sha256').update(origin).digest('hex').slice(0, 32)}.json`)
  }

  get(origin: string): WitnessState | undefined {
    const f = this.file(origin)
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as WitnessState) : undefined
  }

  put(origin: string, state: WitnessState): void {
    const f = this.file(origin)
    const tmp = `${f}.${process.pid}.tmp`
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify({ origin, ...state }))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, f)
    const dirFd = fs.openSync(path.dirname(f), 'r')
    try {
      fs.fsyncSync(dirFd)
    } finally {
      fs.closeSync(dirFd)
    }
  }
}

/** The witness key: `<dir>/witness-key` (a 32-byte seed, hex, mode 0600), created on first start. */
export function loadWitnessKey(dir: string, name: string): Cosigner {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = path.join(dir, 'witness-key')
  if (!fs.existsSync(file)) {
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return cosignerFromSeed(name, Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex'))
}

export interface WitnessServerOptions {
  readonly dir: string
  readonly name: string
  readonly logKeys: readonly Verifier[]
  readonly host: string
  readonly port: number
}

export async function startWitness(o: WitnessServerOptions): Promise<{ url: string; vkey: string; close(): Promise<void> }> {
  const key = loadWitnessKey(o.dir, o.name)
  const store = new WitnessStore(o.dir)
  // One request at a time: the check against the stored size and the write are one step.
  let queue: Promise<unknown> = Promise.resolve()
  const handle = (body: string): { status: number; body: string; type: string } => {
    try {
      const req = parseAddCheckpoint(body)
      const { origin, state } = checkAddCheckpoint(req, o.logKeys, (origin) => store.get(origin))
      store.put(origin, state)
      const text = Buffer.from(parseNote(req.checkpoint).text, 'utf8')
      const sig = Buffer.concat([Buffer.alloc(4), key.sign(text)])
      sig.writeUInt32BE(key.id)
      return { status: 200, body: signatureLine({ name: key.name, id: key.id, base64: sig.toString('base64') }), type: 'text/plain; charset=utf-8' }
    } catch (err) {
      if (err instanceof WitnessError) return { status: err.status, body: err.body ?? `${err.message}\n`, type: err.contentType ?? 'text/plain; charset=utf-8' }
      return { status: 400, body: `${(err as Error).message}\n`, type: 'text/plain; charset=utf-8' }
    }
  }
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/add-checkpoint') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > 1 << 20) req.destroy()
      else chunks.push(c)
    })
    req.on('end', () => {
      queue = queue.then(() => {
        const r = handle(Buffer.concat(chunks).toString('utf8'))
        res.writeHead(r.status, { 'content-type': r.type }).end(r.body)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(o.port, o.host, resolve))
  const addr = server.address() as { port: number }
  return {
    url: `http://${o.host}:${addr.port}`,
    vkey: vkeyOf(key.verifier),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

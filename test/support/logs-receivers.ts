// Real drain receivers for tests: rsyslog (Debian's package) in the foreground on loopback ports
// for syslog:// and syslog-tls://, a raw TCP capture for exact bytes, and an HTTPS receiver.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export function rsyslogAvailable(): boolean {
  if (spawnSync('rsyslogd', ['-v']).status !== 0) return false
  return spawnSync('sh', ['-c', 'ls /usr/lib/*/rsyslog/lmnsd_gtls.so /usr/lib/rsyslog/lmnsd_gtls.so 2>/dev/null']).stdout.length > 0
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function selfSignedCert(dir: string): { cert: string; key: string; certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'cert.pem')
  const keyFile = path.join(dir, 'key.pem')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`)
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile }
}

/** rsyslogd -n with one plain TCP and one TLS input, writing each message exactly as received. */
export class Rsyslog {
  private child: ChildProcess | undefined
  readonly out: string
  private constructor(
    readonly dir: string,
    readonly tcpPort: number,
    readonly tlsPort: number,
    readonly cert: ReturnType<typeof selfSignedCert>,
  ) {
    this.out = path.join(dir, 'out.log')
  }

  /** Starts on fresh loopback ports; a port taken between choosing and binding means another try. */
  static async start(): Promise<Rsyslog> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Rsyslog.startOnce()
      } catch (err) {
        if (attempt >= 3) throw err
      }
    }
  }

  private static async startOnce(): Promise<Rsyslog> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ledger-rsyslog-'))
    const r = new Rsyslog(dir, await freePort(), await freePort(), selfSignedCert(dir))
    fs.writeFileSync(
      path.join(dir, 'rsyslog.conf'),
      `global(workDirectory="${dir}" parser.escapeControlCharactersOnReceive="off" parser.dropTrailingLFOnReception="off"
  maxMessageSize="128k" DefaultNetstreamDriverCAFile="${r.cert.certFile}" DefaultNetstreamDriverCertFile="${r.cert.certFile}"
  DefaultNetstreamDriverKeyFile="${r.cert.keyFile}")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%")
# One consumer thread: with the main queue's several workers rsyslog may write batches out of order.
ruleset(name="drain" queue.type="LinkedList" queue.workerThreads="1" queue.size="2000000") { action(type="omfile" file="${r.out}" template="raw" asyncWriting="off" flushOnTXEnd="on") }
input(type="imtcp" port="${r.tcpPort}" address="127.0.0.1" ruleset="drain")
input(type="imtcp" port="${r.tlsPort}" address="127.0.0.1" ruleset="drain" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`,
    )
    try {
      await r.resume()
    } catch (err) {
      await r.stop()
      throw err
    }
    return r
  }

  /** (Re)starts rsyslogd and waits until both ports accept connections. */
  async resume(): Promise<void> {
    const child = spawn('rsyslogd', ['-n', '-f', path.join(this.dir, 'rsyslog.conf'), '-i', path.join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    child.stdout!.on('data', (d) => (log += d))
    child.stderr!.on('data', (d) => (log += d))
    this.child = child
    const deadline = Date.now() + 20_000
    for (const port of [this.tcpPort, this.tlsPort]) {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${log}`)
        const ok = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.destroy()
            resolve(true)
          })
          s.on('error', () => resolve(false))
        })
        if (ok) break
        if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on ${port}: ${log}`)
        await new Promise((res) => setTimeout(res, 50))
      }
    }
  }

  /** Stops rsyslogd (SIGTERM, as an operator would) and waits for it to exit. */
  async pause(): Promise<void> {
    const c = this.child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGTERM')
    })
    this.child = undefined
  }

  received(): string {
    return fs.existsSync(this.out) ? fs.readFileSync(this.out, 'utf8') : ''
  }

  /** Waits until `predicate(received())` holds. */
  async waitFor(predicate: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = this.received()
      if (predicate(text)) return text
      if (Date.now() > deadline) throw new Error(`rsyslog did not receive what was expected; got ${text.length} bytes:\n${text.slice(-2000)}`)
      await new Promise((res) => setTimeout(res, 50))
    }
  }

  async stop(): Promise<void> {
    await this.pause()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A TCP listener that keeps every byte it receives. */
export class RawTcpReceiver {
  data = Buffer.alloc(0)
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  private readonly sockets = new Set<net.Socket>()

  static async start(): Promise<RawTcpReceiver> {
    const chunks: Buffer[] = []
    const ref: { self?: RawTcpReceiver } = {}
    const server = net.createServer((sock) => {
      ref.self!.sockets.add(sock)
      sock.on('close', () => ref.self!.sockets.delete(sock))
      sock.on('data', (d) => {
        chunks.push(d)
        ref.self!.data = Buffer.concat(chunks)
      })
      sock.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ref.self = new RawTcpReceiver(server, (server.address() as net.AddressInfo).port)
    return ref.self
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

export interface ReceivedPost {
  readonly path: string
  readonly contentType: string | undefined
  readonly authorization: string | undefined
  readonly body: string
}

/** An HTTPS server that records each POST and answers 200 (or `status`). */
export class HttpsReceiver {
  readonly posts: ReceivedPost[] = []
  status = 200
  private constructor(
    private readonly server: https.Server,
    readonly port: number,
  ) {}

  static async start(cert: { cert: string; key: string }): Promise<HttpsReceiver> {
    const ref: { self?: HttpsReceiver } = {}
    const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (d) => chunks.push(d))
      req.on('end', () => {
        const self = ref.self!
        if (self.status === 200) {
          self.posts.push({ path: req.url ?? '', contentType: req.headers['content-type'], authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') })
        }
        res.writeHead(self.status).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ref.self = new HttpsReceiver(server, (server.address() as net.AddressInfo).port)
    return ref.self
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

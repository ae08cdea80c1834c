// syslog:// and syslog-tls://: one long-lived TCP (or TLS) connection, RFC 6587 octet-counted
// RFC 5424 messages, as the syslog agent writes them.
import net from 'node:net'
import tls from 'node:tls'
import { octetFrame } from '../../syslog/framing.ts'
import type { Envelope } from '../envelope.ts'
import { rfc5424 } from '../syslog.ts'
import { type ParsedDrainUrl, type Transport, type TransportOptions, Refused, tlsOptions } from './transport.ts'

export class SyslogTransport implements Transport {
  private socket: net.Socket | undefined

  private readonly target: ParsedDrainUrl
  private readonly tls: boolean

  constructor(private readonly o: TransportOptions) {
    this.target = o.target
    this.tls = o.tls
  }

  get connected(): boolean {
    return this.socket !== undefined
  }

  private async connect(): Promise<net.Socket> {
    const refused = await this.o.policy.refusal(this.target.host, this.target.port)
    if (refused) throw new Refused(`refused: ${refused}`)
    const { host, port } = this.target
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s =
        this.tls
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...tlsOptions(this.o.creds, this.o.cfg.drainSkipCertVerify) })
          : net.connect({ host, port })
      const timer = setTimeout(() => s.destroy(new Error('connect timed out')), 10_000)
      s.once(this.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        s.removeListener('error', reject)
        resolve(s)
      })
      s.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    // The receiver closing its side means nothing more will be read: stop writing at once.
    const drop = () => {
      if (this.socket === socket) this.socket = undefined
      socket.destroy()
    }
    socket.on('end', drop)
    socket.on('close', drop)
    socket.on('error', drop)
    socket.on('data', () => {}) // receivers do not answer; keep the stream flowing
    this.socket = socket
    this.o.onConnect()
    return socket
  }

  async send(batch: readonly Envelope[]): Promise<void> {
    const socket = this.socket ?? (await this.connect())
    let text = ''
    for (const e of batch) text += octetFrame(rfc5424(e, this.target.withMetadata))
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('connection closed'))
      socket.once('close', onClose)
      socket.write(text, (err) => {
        socket.removeListener('close', onClose)
        if (err) reject(err)
        else resolve()
      })
    })
  }

  close(): void {
    this.socket?.destroy()
    this.socket = undefined
  }
}

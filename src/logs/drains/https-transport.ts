// https:// and https-batch://: RFC 5424 messages POSTed as text/plain over a kept-alive
// connection (one message per request, or a batch); 4xx but 408/429 loses the batch.
import type http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { Envelope } from '../envelope.ts'
import { rfc5424 } from '../syslog.ts'
import { type ParsedDrainUrl, type Transport, type TransportOptions, PermanentFailure, Refused, tlsOptions } from './transport.ts'

export class HttpsTransport implements Transport {
  private readonly agent: https.Agent
  private ok = false
  /** The address policy is checked once a minute, not per message. */
  private checkedAt = 0

  private readonly target: ParsedDrainUrl

  constructor(private readonly o: TransportOptions) {
    this.target = o.target
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(o.creds, o.cfg.drainSkipCertVerify) })
  }

  get connected(): boolean {
    return this.ok
  }

  async send(batch: readonly Envelope[]): Promise<void> {
    if (Date.now() - this.checkedAt > 60_000) {
      const refused = await this.o.policy.refusal(this.target.host, this.target.port)
      if (refused) throw new Refused(`refused: ${refused}`)
      this.checkedAt = Date.now()
    }
    let body = ''
    for (const e of batch) body += rfc5424(e, this.target.withMetadata)
    const u = this.target.url
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host: this.target.host,
          port: this.target.port,
          path: `${u.pathname}${u.search}`,
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'content-length': Buffer.byteLength(body),
            ...(u.username ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` } : {}),
          },
          servername: net.isIP(this.target.host) ? undefined : this.target.host,
          timeout: 20_000,
        },
        (res: http.IncomingMessage) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error('request timed out')))
      req.on('error', reject)
      req.end(body)
    })
    if (status >= 200 && status < 300) {
      if (!this.ok) this.o.onConnect()
      this.ok = true
      return
    }
    this.ok = false
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new PermanentFailure(`the drain answered ${status}`)
    throw new Error(`the drain answered ${status}`)
  }

  close(): void {
    this.ok = false
    this.agent.destroy()
  }
}

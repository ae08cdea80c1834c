// The benches' load generator: JSON POSTs over node:http with kept-alive sockets. On two cores the
// callers share the CPU with the servers and PostgreSQL, so they should cost as little as a real
// remote caller's would here: global fetch (undici) spent ~1.1 ms of CPU per request, this
// ~0.3 ms (docs/performance.md, "Ledger log").
import http from 'node:http'

export interface LoadReply {
  readonly status: number
  readonly body: Record<string, unknown>
}

export class LoadClient {
  private readonly agent: http.Agent
  private readonly target: URL

  constructor(
    baseUrl: string,
    private readonly token: string,
    sockets: number,
  ) {
    this.target = new URL(baseUrl)
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets })
  }

  post(path: string, body: unknown): Promise<LoadReply> {
    const payload = Buffer.from(JSON.stringify(body))
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          method: 'POST',
          path,
          headers: { authorization: `bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
            } catch (e) {
              reject(e)
            }
          })
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

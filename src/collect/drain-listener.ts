// The incoming syslog drain (docs/collect.md, "Output"): what an operator binds with
// `cf create-user-provided-service ledger -l syslog-tls://HOST:PORT` or as an aggregate drain.
// TCP and TLS, RFC 6587 octet-counted RFC 5424 as Loggregator's syslog agent sends it.
import net from 'node:net'
import tls from 'node:tls'
import type { Logger } from 'pino'
import { FrameReader, parseRfc5424, SyslogParseError, type SyslogMessage } from '../syslog/parse.ts'
import type { DrainListenConfig } from './config.ts'

export interface DrainListener {
  /** `tcp://host:port` and `tls://host:port` actually bound. */
  readonly addresses: { readonly tcp?: string; readonly tls?: string }
  readonly stats: { connections: number; messages: number; badFrames: number; badMessages: number }
  close(): Promise<void>
}

function addressOf(server: net.Server, scheme: string, host: string): string {
  const a = server.address() as net.AddressInfo
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${a.port}`
}

export async function startDrainListener(cfg: DrainListenConfig, onMessage: (m: SyslogMessage) => void, logger: Logger): Promise<DrainListener> {
  const stats = { connections: 0, messages: 0, badFrames: 0, badMessages: 0 }
  const sockets = new Set<net.Socket>()
  const handle = (socket: net.Socket) => {
    stats.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    const frames = new FrameReader()
    const deliver = (text: string) => {
      stats.messages++
      try {
        onMessage(parseRfc5424(text))
      } catch (err) {
        if (!(err instanceof SyslogParseError)) throw err
        if (stats.badMessages++ === 0) logger.warn({ err: err.message }, 'collect drain: a message is not RFC 5424; skipped (counted)')
      }
    }
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(chunk, deliver)
      } catch (err) {
        // A stream that is not octet counted cannot be resynchronised: drop the connection.
        stats.badFrames++
        logger.warn({ err: (err as Error).message, remote: socket.remoteAddress }, 'collect drain: bad framing; connection closed')
        socket.destroy()
      }
    })
  }
  const servers: net.Server[] = []
  const listen = (server: net.Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, cfg.host, () => resolve())
    })
  const addresses: { tcp?: string; tls?: string } = {}
  if (cfg.tcpPort !== undefined) {
    const server = net.createServer(handle)
    await listen(server, cfg.tcpPort)
    servers.push(server)
    addresses.tcp = addressOf(server, 'tcp', cfg.host)
  }
  if (cfg.tls) {
    const server = tls.createServer({ cert: cfg.tls.cert, key: cfg.tls.key }, handle)
    server.on('tlsClientError', () => undefined)
    await listen(server, cfg.tls.port)
    servers.push(server)
    addresses.tls = addressOf(server, 'tls', cfg.host)
  }
  return {
    addresses,
    stats,
    async close() {
      for (const s of sockets) s.destroy()
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}

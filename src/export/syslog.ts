// Delivers a batch of octet-counted syslog frames over TCP or TLS and waits for the receiver's
// confirmation that it read all of them (docs/export.md, "Delivery guarantees").
//
// Plain syslog over TCP has no acknowledgements, and a write callback only means the local
// kernel took the bytes. So each batch uses its own connection: write the frames, half-close
// (FIN; over TLS close_notify + FIN), and count the batch as delivered only when the receiver
// then closes its side cleanly. A syslog receiver closes after reading to end-of-stream, i.e.
// after it has read every frame; one that died or dropped the connection resets it or never
// answers, and the batch is sent again.
//
// A receiver that accepts and at once closes (rsyslog over its session limit does) would send
// its FIN before reading anything; waiting a moment after connecting (plain TCP only; a TLS
// handshake already proves the receiver is reading) turns that into a failure instead of a
// false confirmation.
import net from 'node:net'
import tls from 'node:tls'
import type { AuditSyslogConfig } from './config.ts'

export class DeliveryError extends Error {}

export interface DeliverOptions {
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  /** Plain TCP: how long the connection must stay open before the batch is written. */
  readonly settleMs?: number
}

export function deliverBatch(target: AuditSyslogConfig, payload: Buffer, opts: DeliverOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, ca: target.ca, servername: net.isIP(target.host) ? undefined : target.host })
      : net.connect({ host: target.host, port: target.port })
    let settled = false
    let written = false
    let peerClosed = false
    let settle: NodeJS.Timeout | undefined
    const finish = (err?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(settle)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) {
        socket.destroy()
        reject(err)
      } else {
        resolve()
      }
    }
    const onAbort = () => finish(new DeliveryError('delivery aborted (server stopping)'))
    const timer = setTimeout(
      () => finish(new DeliveryError(`the receiver did not confirm ${payload.length} bytes within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    )
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const send = () => {
      if (settled || peerClosed) return
      written = true
      socket.write(payload, (err) => {
        if (err) finish(err)
      })
      socket.end()
    }
    socket.setNoDelay(true)
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      if (target.tls || !opts.settleMs) send()
      else settle = setTimeout(send, opts.settleMs)
    })
    // Receivers send nothing; read (and drop) anyway so the end of their stream is seen.
    socket.on('data', () => undefined)
    socket.on('end', () => {
      peerClosed = true
      if (!written) finish(new DeliveryError('the receiver closed the connection before reading (session limit?)'))
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => {
      if (peerClosed && written) finish()
      else finish(new DeliveryError('the connection closed before the receiver confirmed the batch'))
    })
  })
}

// Wake-ups between the servers sharing a database: PostgreSQL LISTEN/NOTIFY on a connection of
// its own (reconnected when it drops). Notifications are hints only: every receiver re-reads the
// database, and a periodic sweep covers a notification lost while the connection was down. The
// embedded store has one server, so its bus is in-process.
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import pg from 'pg'

export type Channel = 'cf_ledger_task_created' | 'cf_ledger_task_cancel' | 'cf_ledger_task_output' | 'cf_ledger_drains_changed'

export interface ClusterBus {
  /** Sends `payload` (≤ 7 KB) to every server, this one included. */
  notify(channel: Channel, payload: string): Promise<void>
  /** Calls `fn` for each notification on `channel`; returns the unsubscribe function. */
  listen(channel: Channel, fn: (payload: string) => void): () => void
  close(): Promise<void>
}

export function localBus(): ClusterBus {
  const ee = new EventEmitter()
  ee.setMaxListeners(0)
  return {
    async notify(channel, payload) {
      queueMicrotask(() => ee.emit(channel, payload))
    },
    listen(channel, fn) {
      ee.on(channel, fn)
      return () => ee.off(channel, fn)
    },
    async close() {
      ee.removeAllListeners()
    },
  }
}

/**
 * A notification is a hint to re-read the database, so one sent *after* a caller's commit serves
 * every caller since the last one started: identical notifications that arrive while one is in
 * flight go out as one, right after it (a server creating 200 tasks a second sent 200 NOTIFYs,
 * and every server woke for each).
 */
export function coalescing(send: (channel: Channel, payload: string) => Promise<void>): (channel: Channel, payload: string) => Promise<void> {
  const queues = new Map<string, { tail: Promise<void>; waiting: Promise<void> | undefined }>()
  return (channel, payload) => {
    const key = `${channel}\n${payload}`
    const q = queues.get(key) ?? { tail: Promise.resolve(), waiting: undefined }
    queues.set(key, q)
    // Not started yet, so it goes out after this call: it covers this call too.
    if (q.waiting) return q.waiting
    const next: Promise<void> = q.tail.then(() => {
      q.waiting = undefined
      return send(channel, payload)
    })
    q.waiting = next
    q.tail = next
    void next.then(() => {
      if (q.tail === next) queues.delete(key)
    })
    return next
  }
}

const CHANNELS: readonly Channel[] = ['cf_ledger_task_created', 'cf_ledger_task_cancel', 'cf_ledger_task_output', 'cf_ledger_drains_changed']

export async function postgresBus(databaseUrl: string, logger: Logger): Promise<ClusterBus> {
  const ee = new EventEmitter()
  ee.setMaxListeners(0)
  let client: pg.Client | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined
  const sender = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'cf-ledger bus' })
  sender.on('error', () => undefined)

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: 'cf-ledger bus' })
    const lost = () => {
      if (client !== c) return
      client = undefined
      c.end().catch(() => undefined)
      if (closed) return
      logger.warn('cluster bus: lost its LISTEN connection; reconnecting (the sweep covers the gap)')
      retry = setTimeout(() => void connect().catch(() => lost()), 500)
      retry.unref()
    }
    c.on('error', lost)
    c.on('end', lost)
    c.on('notification', (n) => ee.emit(n.channel, n.payload ?? ''))
    client = c
    try {
      await c.connect()
      for (const ch of CHANNELS) await c.query(`listen ${ch}`)
    } catch (err) {
      logger.warn({ err }, 'cluster bus: cannot LISTEN')
      lost()
    }
  }
  await connect()

  const send = async (channel: Channel, payload: string) => {
    try {
      await sender.query('select pg_notify($1, $2)', [channel, payload])
    } catch (err) {
      logger.warn({ err, channel }, 'cluster bus: NOTIFY failed (the sweep covers it)')
    }
  }

  return {
    notify: coalescing(send),
    listen(channel, fn) {
      ee.on(channel, fn)
      return () => ee.off(channel, fn)
    },
    async close() {
      closed = true
      clearTimeout(retry)
      const c = client
      client = undefined
      await c?.end().catch(() => undefined)
      await sender.end().catch(() => undefined)
      ee.removeAllListeners()
    },
  }
}

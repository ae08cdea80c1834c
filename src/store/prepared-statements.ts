import pg from 'pg'

/**
 * Statement texts that run often get a name, so each connection parses and plans them once and
 * then only binds and executes (node-postgres prepares a named statement per connection on its
 * first use). On two cores shared with PostgreSQL, planning was a third of a task creation's
 * database time (docs/performance.md, "Ledger log").
 *
 * Texts become named on their third use, and at most `limit` of them: the rest (IN lists of
 * every length, one-off reports) stay unnamed, so what each backend keeps stays bounded.
 */
export class StatementNames {
  private readonly names = new Map<string, string>()
  private readonly uses = new Map<string, number>()
  private next = 1

  constructor(private readonly limit = 128) {}

  nameOf(text: string): string | undefined {
    const name = this.names.get(text)
    if (name !== undefined || this.names.size >= this.limit) return name
    const n = (this.uses.get(text) ?? 0) + 1
    if (n < 3) {
      if (this.uses.size >= 4 * this.limit) this.uses.clear()
      this.uses.set(text, n)
      return undefined
    }
    this.uses.delete(text)
    const fresh = `cfl_${this.next++}`
    this.names.set(text, fresh)
    return fresh
  }

  /**
   * PostgreSQL refuses a prepared statement whose result columns changed under it (a migration by
   * a newer server in the cluster, SQLSTATE 0A000): that text runs unnamed from then on.
   */
  forget(text: string): void {
    if (this.names.has(text)) this.names.set(text, '') // '' = known, never named again
  }
}

const TRANSACTION_START = /^\s*(begin|start transaction)\b/i
// `rollback to savepoint` ends no transaction.
const TRANSACTION_END = /^\s*(commit|end|abort|rollback(?!\s+to\b))\b/i

/**
 * Makes a pool's new client run parameterized texts under their names (pg.Pool's `connect`
 * event). A named statement that meets a schema change outside a transaction is run again
 * unnamed at once; inside one the transaction is already aborted, so the error goes up (it is
 * answered as a 503 to retry: store/outage.ts).
 */
export function nameStatements(client: pg.PoolClient, names: StatementNames): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>
  let inTransaction = false
  // kysely calls (text, values); other call shapes pass through.
  const named = (...args: unknown[]) => {
    const [text, values] = args
    if (typeof text === 'string') {
      if (TRANSACTION_START.test(text)) inTransaction = true
      else if (TRANSACTION_END.test(text)) inTransaction = false
    }
    const name = args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0 ? names.nameOf(text) : undefined
    if (!name) return query(...args)
    const wasInTransaction = inTransaction
    return query({ name, text, values }).catch((err: { code?: string }) => {
      if (err?.code !== '0A000') throw err
      names.forget(text as string)
      if (wasInTransaction) throw err
      return query(text, values)
    })
  }
  Object.assign(client, { query: named })
}

// Live output of tasks running on other servers (docs/cluster.md). The owner stores each chunk
// and announces it (task, chunk seq); every other server reads the chunks it has not seen, in
// order, from the store and hands their records to its own log-cache ring and live readers (not to
// drains: the owner ships those). The store is the source of truth, so a lost notification only
// delays lines until the next one, and nothing is skipped.
import type { Logger } from 'pino'
import type { ClusterBus } from '../cluster/bus.ts'
import type { Db } from '../store/store.ts'
import type { OutputStore } from './output-store.ts'
import type { OutputRecord } from './records.ts'
import { logContextOf, type TaskLogContext } from './sink.ts'

export interface RemoteSink {
  /** Records of a task another server runs, in order; `ctx` is read once per task. */
  records(ctx: TaskLogContext, recs: readonly OutputRecord[]): void
  /** The owner stored the task's last chunk and summary. */
  ended(taskGuid: string): void
}

interface Follow {
  nextSeq: number
  ctx: TaskLogContext | undefined
  chain: Promise<void>
  ended: boolean
}

/** Message: `<task guid> <seq | end> <sender instance>`. */
export function announce(bus: ClusterBus, self: string, taskGuid: string, what: number | 'end'): void {
  void bus.notify('cf_ledger_task_output', `${taskGuid} ${what} ${self}`)
}

export function followRemoteOutput(bus: ClusterBus, self: string, db: Db, store: OutputStore, sink: RemoteSink, logger: Logger): () => void {
  const follows = new Map<string, Follow>()

  async function contextOf(taskGuid: string): Promise<TaskLogContext | undefined> {
    const t = await db.selectFrom('tasks').selectAll().where('guid', '=', taskGuid).executeTakeFirst()
    return t && logContextOf(t)
  }

  async function catchUp(taskGuid: string, f: Follow, end: boolean): Promise<void> {
    f.ctx ??= await contextOf(taskGuid)
    if (!f.ctx) return
    for await (const { seq, records } of store.chunksFrom(taskGuid, f.nextSeq)) {
      f.nextSeq = seq + 1
      sink.records(f.ctx, records)
    }
    if (end && !f.ended) {
      f.ended = true
      follows.delete(taskGuid)
      sink.ended(taskGuid)
    }
  }

  return bus.listen('cf_ledger_task_output', (payload) => {
    const [taskGuid, what, sender] = payload.split(' ')
    if (!taskGuid || !what || sender === self) return
    let f = follows.get(taskGuid)
    if (!f) follows.set(taskGuid, (f = { nextSeq: 0, ctx: undefined, chain: Promise.resolve(), ended: false }))
    const follow = f
    follow.chain = follow.chain
      .then(() => catchUp(taskGuid, follow, what === 'end'))
      .catch((err) => logger.warn({ err, task: taskGuid }, 'could not read the output of a task on another server'))
  })
}

import crypto from 'node:crypto'
import type { OutputLine } from '../executor/executor.ts'
import type { TaskLogContext, TaskLogSink, TaskOutputSummary } from '../logs/sink.ts'

/**
 * A sink that keeps nothing but the completion summary (line counts, bytes, SHA-256). It is what
 * the task runner uses when no log pipeline is configured.
 */
export class SummarySink implements TaskLogSink {
  private readonly running = new Map<string, { hash: crypto.Hash; out: number; err: number; bytes: number }>()

  taskStarting(ctx: TaskLogContext): void {
    this.running.set(ctx.taskGuid, { hash: crypto.createHash('sha256'), out: 0, err: 0, bytes: 0 })
  }

  taskOutput(ctx: TaskLogContext, line: OutputLine): void {
    const s = this.running.get(ctx.taskGuid)
    if (!s) return
    const bytes = Buffer.byteLength(line.text) + 1
    s.hash.update(line.text).update('\n')
    s.bytes += bytes
    if (line.stream === 'OUT') s.out++
    else s.err++
  }

  async taskExited(ctx: TaskLogContext): Promise<TaskOutputSummary> {
    const s = this.running.get(ctx.taskGuid) ?? { hash: crypto.createHash('sha256'), out: 0, err: 0, bytes: 0 }
    this.running.delete(ctx.taskGuid)
    return { outLines: s.out, errLines: s.err, bytes: s.bytes, sha256: s.hash.digest('hex'), droppedLines: 0, truncated: false }
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type TaskExit, neverStarted } from '../src/executor/executor.ts'
import { exitStatusOf, failureReasonOf, taskExitStatus } from '../src/tasks/failure-reason.ts'

const base: TaskExit = {
  exitCode: 0,
  signal: null,
  oomKilled: false,
  timedOut: false,
  cancelled: false,
  diskExceeded: false,
  startedAt: new Date(),
  finishedAt: new Date(),
}
const reason = (e: Partial<TaskExit>) => failureReasonOf('migrate', { ...base, ...e }, 60, 512)

describe('task failure reasons', () => {
  it("uses Diego's and CC's texts", () => {
    assert.equal(reason({}), null)
    assert.equal(reason({ exitCode: 1 }), 'APP/TASK/migrate: Exited with status 1')
    assert.equal(reason({ exitCode: 137, oomKilled: true }), 'APP/TASK/migrate: Exited with status 137 (out of memory)')
    assert.equal(reason({ exitCode: null, signal: 'SIGKILL', oomKilled: true }), 'APP/TASK/migrate: Exited with status 137 (out of memory)')
    assert.equal(reason({ exitCode: null, signal: 'SIGTERM', cancelled: true }), 'task was cancelled')
    assert.equal(reason({ error: 'bwrap failed' }), 'Unable to request task to be run')
  })

  it('names the extensions: time-out, disk, server shutdown', () => {
    assert.equal(reason({ exitCode: null, signal: 'SIGTERM', timedOut: true }), 'APP/TASK/migrate: Exceeded maximum run time of 60 seconds')
    assert.equal(reason({ exitCode: null, signal: 'SIGKILL', diskExceeded: true }), 'APP/TASK/migrate: Exceeded disk limit of 512 MB')
    assert.equal(reason({ exitCode: 143, shutdown: true }), 'Task stopped because the server shut down')
  })

  it('reports a signal death as 128 + the signal number', () => {
    assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGTERM' }), 143)
    assert.equal(exitStatusOf({ exitCode: 3, signal: null }), 3)
  })

  it('has no exit status for a command that never ran', () => {
    assert.equal(taskExitStatus(neverStarted({ cancelled: true })), null)
    assert.equal(taskExitStatus(neverStarted({ error: 'could not prepare the task: ENOSPC' })), null)
    assert.equal(taskExitStatus({ ...base, exitCode: 125, error: 'could not start the task: ulimit' }), null)
    assert.equal(taskExitStatus({ ...base, exitCode: null, signal: 'SIGKILL', cancelled: true }), 137)
    assert.equal(taskExitStatus({ ...base, exitCode: 0 }), 0)
    assert.equal(reason(neverStarted({ cancelled: true })), 'task was cancelled')
  })
})

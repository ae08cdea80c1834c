// Incremental `cf-ledger verify --remote` on a large log (part of `npm run bench -- ledger`): a real
// server on the bench's database signs checkpoints; after each batch of 1,000 new events an
// auditor's run checks the new checkpoint and its consistency with the last one verified, and (as a
// global reader) the new entries against their tiles. The baseline is one authenticated
// `GET /ledger/v1/log/checkpoint`, the least such a run can do.
import fs from 'node:fs'
import path from 'node:path'
import { parseVkey } from '../src/ledger/note.ts'
import { verifyRemote } from '../src/ledger/verify-remote.ts'
import { Api } from '../test/support/client.ts'
import { startServer } from '../test/support/server.ts'
import { ms, now, summarize, type Summary } from './stats.ts'

export interface RemoteResults {
  readonly incremental: Summary
  readonly withEntries: Summary
  readonly checkpointGet: Summary
}

/** `addEvents(n)` commits n more events to the database; the server integrates and signs them. */
export async function measureRemoteVerify(databaseUrl: string, dir: string, addEvents: (n: number) => Promise<void>, rounds = 7): Promise<RemoteResults> {
  const server = await startServer('postgres', { databaseUrl, dataDir: path.join(dir, 'server'), env: { CF_LEDGER_TASK_SANDBOX: 'none' } })
  try {
    const admin = await new Api(server.url).admin()
    const token = admin.token!
    const logKeys = [parseVkey(String((await admin.get('/ledger/v1/log/key')).body).trim())]
    const sizeNow = async () => Number(String((await admin.get('/ledger/v1/log/checkpoint')).body).split('\n')[1])
    /** Adds 1,000 events and waits until the server's checkpoint covers them. */
    const grow = async () => {
      const before = await sizeNow()
      await addEvents(1000)
      const deadline = Date.now() + 60_000
      while ((await sizeNow()) < before + 1000) {
        if (Date.now() > deadline) throw new Error('the server did not sign a checkpoint over the new events within 60 s')
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    const run = async (stateFile: string, entries: boolean) => {
      const t = now()
      const r = await verifyRemote({ url: server.url, token, logKeys, stateFile, entries })
      const took = ms(now() - t)
      if (!r.ok) throw new Error(`verify --remote failed: ${r.problem}`)
      if (entries && r.previous !== null && r.entriesChecked < 1000) throw new Error(`verify --remote checked ${r.entriesChecked} entries, expected at least 1,000`)
      return took
    }
    const plain = path.join(dir, 'remote-plain.json')
    const full = path.join(dir, 'remote-entries.json')
    await grow() // the server's own first checkpoint over the whole log
    await run(plain, false)
    await run(full, true)
    const incremental: number[] = []
    const withEntries: number[] = []
    const checkpointGet: number[] = []
    for (let i = 0; i < rounds; i++) {
      await grow()
      incremental.push(await run(plain, false))
      withEntries.push(await run(full, true))
      for (let j = 0; j < 20; j++) {
        const t = now()
        await admin.get('/ledger/v1/log/checkpoint')
        checkpointGet.push(ms(now() - t))
      }
    }
    fs.rmSync(plain, { force: true })
    fs.rmSync(full, { force: true })
    return { incremental: summarize(incremental), withEntries: summarize(withEntries), checkpointGet: summarize(checkpointGet) }
  } finally {
    await server.stop()
  }
}

// `cf-ledger collect FILE`: checks a foundations file and each foundation before the server
// collects from it (docs/collect.md): API root links, a token for the client, what it may read.
import { PRIVATE_DATA_HIDDEN } from '../audit/redaction.ts'
import { CcClient } from '../collect/cc-client.ts'
import { loadFoundations } from '../collect/config.ts'

interface Page {
  readonly pagination: { readonly total_results: number }
  readonly resources: readonly Record<string, unknown>[]
}

/** Exit 0 every foundation is ready, 1 one is not (the message says why), 2 the file is wrong. */
export async function collectCheck(file: string): Promise<number> {
  let foundations
  try {
    foundations = loadFoundations(file)
  } catch (err) {
    console.error(`cf-ledger collect: ${(err as Error).message}`)
    return 2
  }
  let code = 0
  for (const f of foundations) {
    const client = new CcClient(f, { attempts: 2, baseMs: 500, maxMs: 2000 })
    try {
      const ep = await client.discover()
      const events = await client.get<Page>('/v3/audit_events?per_page=1&order_by=created_at')
      const tasks = await client.get<Page>('/v3/tasks?per_page=1&order_by=-updated_at')
      // The list leaves commands out (as CC does); the task itself shows whether this client may read them.
      const first = tasks.resources[0]
      const task = first ? await client.get<Record<string, unknown>>(`/v3/tasks/${first.guid as string}`) : undefined
      const commands = task === undefined ? 'no task yet to tell' : typeof task.command === 'string' && task.command !== PRIVATE_DATA_HIDDEN ? 'yes' : 'no (give the client cloud_controller.admin_read_only)'
      console.log(`${f.name}: ready`)
      console.log(`  api:        ${ep.api}`)
      console.log(`  uaa:        ${ep.uaa}`)
      console.log(`  log-cache:  ${ep.logCache ?? '-'}`)
      console.log(`  events:     ${events.pagination.total_results} kept, oldest ${(events.resources[0]?.created_at as string | undefined) ?? '-'}`)
      console.log(`  tasks:      ${tasks.pagination.total_results}; commands visible: ${commands}`)
    } catch (err) {
      console.error(`cf-ledger collect: ${(err as Error).message}`)
      code = 1
    } finally {
      client.close()
    }
  }
  if (code === 0) console.log(`Start collecting with: cf-ledger serve --collect ${file}`)
  return code
}

import type { Command } from 'commander'
import { renderTaskTable, renderTrail } from './render-trail.ts'
import { parseProof } from '../ledger/proof-file.ts'
import { verifyProofFile } from '../ledger/verify-proof-cli.ts'
import { apiGet, apiGetText, CliError, login } from './session.ts'
import { read } from '../settings/read.ts'
import { S } from '../settings/table.ts'

/* eslint-disable @typescript-eslint/no-explicit-any */

async function resolveTaskGuid(opts: { app?: string; sequence?: string; space?: string }): Promise<string> {
  if (!opts.app || !opts.sequence) throw new CliError('Give a TASK_GUID, or --app NAME with --sequence N.')
  const params = new URLSearchParams({ app_names: opts.app, sequence_ids: opts.sequence })
  if (opts.space) params.set('space_guids', opts.space)
  const found = await apiGet<any>(`/ledger/v1/tasks?${params}`)
  if (found.resources.length === 0) throw new CliError(`No task ${opts.sequence} found for app '${opts.app}'.`)
  if (found.resources.length > 1) {
    throw new CliError(`App name '${opts.app}' is ambiguous (${found.resources.length} apps); add --space SPACE_GUID.`)
  }
  return found.resources[0].task.guid
}

function fail(err: unknown): never {
  console.error(`cf-ledger: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}

/** `login`, `trail` and `tasks`: the task trail for people and scripts. */
export function addLedgerCommands(program: Command): void {
  program
    .command('login')
    .description("Log in to a cf-ledger server (tokens are kept in ~/.cf-ledger/config.json, or $CF_LEDGER_HOME)")
    .requiredOption('-a, --api <url>', 'server URL, e.g. http://127.0.0.1:8080')
    .option('-u, --username <name>', 'user name (password grant)')
    .option('-p, --password <password>', 'password (or CF_LEDGER_PASSWORD)')
    .option('--client-id <id>', 'OAuth client id (client_credentials grant)')
    .option('--client-secret <secret>', 'OAuth client secret (or CF_LEDGER_CLIENT_SECRET)')
    .action(async (o: { api: string; username?: string; password?: string; clientId?: string; clientSecret?: string }) => {
      try {
        if (!o.clientId && !o.username) throw new CliError('Give -u USER (and -p PASSWORD) or --client-id ID.')
        await login(o.api, {
          username: o.username,
          password: o.password ?? read(S.cliPassword, process.env),
          clientId: o.clientId,
          clientSecret: o.clientSecret ?? read(S.cliClientSecret, process.env),
        })
        console.log(`Logged in to ${o.api}`)
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('trail')
    .description('Show the whole record of one task run: who, what command, where, output, outcome, integrity')
    .argument('[task-guid]', 'the task guid')
    .option('--app <name>', 'find the task by app name …')
    .option('--sequence <n>', '… and sequence id (the id `cf tasks` shows)')
    .option('--space <guid>', 'space guid, when the app name exists in several spaces')
    .option('--lines <n>', 'output lines to show (tail)', '50')
    .option('--json', 'print the record as JSON')
    .option('--verify', "also fetch the task's .tlog-proof and check it offline against --key (exit 3 when it fails)")
    .option('--key <vkey...>', "with --verify: the ledger log's verifier key you trust (text or file; or CF_LEDGER_LOG_VKEY)")
    .option('--witness <vkey...>', 'with --verify: witness keys that must have cosigned')
    .action(async (guid: string | undefined, o: { app?: string; sequence?: string; space?: string; lines: string; json?: boolean; verify?: boolean; key?: string[]; witness?: string[] }) => {
      try {
        if (!/^\d+$/.test(o.lines)) throw new CliError('--lines must be a number')
        const taskGuid = guid ?? (await resolveTaskGuid(o))
        if (process.stderr.isTTY) process.stderr.write(`Fetching trail of task ${taskGuid}…\n`)
        const trail = await apiGet<any>(`/ledger/v1/tasks/${encodeURIComponent(taskGuid)}/trail?output_lines=${o.lines}`)
        console.log(o.json ? JSON.stringify(trail, null, 2) : renderTrail(trail))
        if (!trail.integrity.verified) process.exitCode = 3
        if (o.verify) {
          const vkey = read(S.cliLogVkey, process.env)
          const key = o.key ?? (vkey ? [vkey] : undefined)
          if (!key) throw new CliError('--verify needs --key VKEY (or CF_LEDGER_LOG_VKEY): the log key you trust, not one fetched from the server')
          const proof = await apiGetText(`/ledger/v1/tasks/${encodeURIComponent(taskGuid)}/proof`)
          if (proof === undefined) console.log('proof:       not available yet (the task has not finished, or no checkpoint covers it yet)')
          else {
            try {
              const r = verifyProofFile(Buffer.from(proof), { key, witness: o.witness, task: taskGuid })
              const e = r.entry
              const mismatch = [
                e.state !== trail.task.state && 'state',
                e.exit_status !== trail.task.exit_status && 'exit status',
                e.failure_reason !== trail.task.failure_reason && 'failure reason',
                (e.output?.sha256 ?? null) !== (trail.output.summary?.sha256 ?? null) && 'output SHA-256',
              ].filter(Boolean)
              if (mismatch.length) throw new Error(`the trail disagrees with the proven record on: ${mismatch.join(', ')}`)
              console.log(`proof:       verified (leaf ${parseProof(proof).index} of ${r.size}${r.cosigners.length ? `, cosigned by ${r.cosigners.join(', ')}` : ''})`)
            } catch (err) {
              console.log(`proof:       FAILED: ${(err as Error).message}`)
              process.exitCode = 3
            }
          }
        }
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('tasks')
    .description('Search task trails')
    .option('--app <name>', 'app name')
    .option('--actor <username>', 'who created the task')
    .option('--state <state>', 'PENDING, RUNNING, SUCCEEDED, FAILED or CANCELING')
    .option('--since <time>', 'created at or after (RFC 3339, e.g. 2026-11-24T00:00:00Z)')
    .option('--until <time>', 'created before (RFC 3339)')
    .option('--command <command>', 'tasks that ran exactly this command (matched by fingerprint)')
    .option('--foundation <name>', 'runs collected from this foundation (`local`: this server\'s own tasks)')
    .option('--limit <n>', 'how many, newest first', '50')
    .option('--json', 'print JSON')
    .action(async (o: { app?: string; actor?: string; state?: string; since?: string; until?: string; command?: string; foundation?: string; limit: string; json?: boolean }) => {
      try {
        const params = new URLSearchParams({ order_by: '-created_at', per_page: o.limit })
        if (o.app) params.set('app_names', o.app)
        if (o.actor) params.set('actor_usernames', o.actor)
        if (o.state) params.set('states', o.state.toUpperCase())
        if (o.since) params.set('created_ats[gte]', o.since)
        if (o.until) params.set('created_ats[lt]', o.until)
        if (o.command) params.set('command', o.command)
        if (o.foundation) params.set('foundations', o.foundation)
        const page = await apiGet<any>(`/ledger/v1/tasks?${params}`)
        console.log(o.json ? JSON.stringify(page.resources, null, 2) : renderTaskTable(page.resources))
      } catch (err) {
        fail(err)
      }
    })
}

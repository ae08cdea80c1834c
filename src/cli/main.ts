import path from 'node:path'
import { Command } from 'commander'
import { loadConfig } from '../config.ts'
import { addLedgerCommands } from './ledger-commands.ts'
import { helpText, read, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

const program = new Command()
program.name('cf-ledger').description('A Cloud Foundry-compatible task runner with a tamper-evident audit ledger').version('0.1.0')

const serve = program.command('serve').description('Start the server (embedded PostgreSQL unless DATABASE_URL is set)')
for (const s of [S.port, S.host, S.dataDir, S.publicUrl, S.collectConfig]) serve.option(s.flag!, `${s.doc.replace(/`/g, '')} (or ${s.env})`)
serve
  .addHelpText('after', `\nEnvironment (flags win over variables; docs: README.md):\n${helpText(['server', 'auth', 'bits', 'tasks', 'logs', 'drains', 'audit', 'export', 'collect'])}`)
  .action(async (opts: { port?: string; host?: string; dataDir?: string; publicUrl?: string; collect?: string }) => {
    let config
    try {
      config = loadConfig(opts)
    } catch (err) {
      console.error(`cf-ledger: ${(err as Error).message}`)
      process.exit(2)
    }
    // Loaded here so that `verify` works without the server's modules.
    const { startApp } = await import('../app.ts')
    const { StoreOpenError } = await import('../store/store.ts')
    let app
    try {
      app = await startApp(config)
    } catch (err) {
      if (!(err instanceof StoreOpenError)) throw err
      console.error(`cf-ledger: ${err.message}`)
      process.exit(1)
    }
    if (app.adminPassword) {
      console.log('Created the admin user. Log in with the cf CLI:')
      console.log(`  cf api ${config.publicUrl ?? app.url}`)
      console.log(`  cf auth admin '${app.adminPassword}'`)
    }
    console.log(`cf-ledger ledger log key: ${app.ledgerVkey}`)
    for (const address of Object.values(app.collectDrain ?? {})) console.log(`cf-ledger collect drain listening on ${address}`)
    console.log(`cf-ledger listening on ${app.url}`)
    let stopping = false
    const stop = async () => {
      if (stopping) return
      stopping = true
      await app.close()
      process.exit(0)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })

program
  .command('verify')
  .description(
    'Verify the audit ledger (hash chain, signed checkpoints, archives); names the first edited, deleted, inserted or reordered event. Exit 0 intact, 1 tampered, 2 cannot verify',
  )
  .option('--data-dir <dir>', `the server data directory (embedded store, keys, checkpoint copy, archives; or ${S.dataDir.env})`)
  .option('--archive-dir <dir>', `archive segments (default <data-dir>/archive; or ${S.archiveDir.env})`)
  .option('--public-key <file...>', 'trust only these Ed25519 public keys (PEM) for checkpoints')
  .option('--json', 'print the report as JSON')
  .option('--force', 'embedded store: verify a copy even though postmaster.pid says it is open (after a crash)')
  .option('--remote <url>', 'verify a server over HTTP as an auditor: checkpoint signatures, cosignatures, consistency with the last run')
  .option('--key <vkey...>', "--remote: the log's verifier key(s) (text or file)")
  .option('--witness <vkey...>', '--remote: witness cosignature keys that must have cosigned (text or file)')
  .option('--quorum <n>', '--remote: how many of the witnesses must have cosigned (default: all)')
  .option('--state <file>', '--remote: where the last verified checkpoint is kept (default ~/.cf-ledger/verify-<host>.json)')
  .option('--entries', '--remote: also check every new entry against the tiles (global readers)')
  .addHelpText(
    'after',
    `
With DATABASE_URL set, verify reads PostgreSQL in one read-only snapshot while the server runs.
Otherwise it reads a temporary copy of the embedded store in --data-dir; stop the server first.`,
  )
  .action(async (opts: VerifyCliOptions) => {
    if (opts.remote) process.exit(await verifyRemoteCommand(opts))
    let settings
    try {
      const get = reader(process.env)
      const archiveDir = opts.archiveDir ?? get(S.archiveDir)
      settings = {
        dataDir: path.resolve(get(S.dataDir, opts.dataDir)),
        archiveDir: archiveDir === undefined ? undefined : path.resolve(archiveDir),
        databaseUrl: get(S.databaseUrl),
        checkpointKey: get(S.checkpointKey),
        logKey: get(S.logKey),
      }
    } catch (err) {
      console.error(`cf-ledger: ${(err as Error).message}`)
      process.exit(2)
    }
    // Imported when run, as every command's implementation: `serve` must not carry the others.
    const { verifyCommand } = await import('./verify.ts')
    const code = await verifyCommand({
      ...settings,
      publicKey: opts.publicKey,
      json: opts.json,
      force: opts.force,
    })
    process.exit(code)
  })

interface VerifyCliOptions {
  dataDir?: string
  archiveDir?: string
  publicKey?: string[]
  json?: boolean
  force?: boolean
  remote?: string
  key?: string[]
  witness?: string[]
  quorum?: string
  state?: string
  entries?: boolean
}

/** `verify --remote`: exit 0 verified, 1 the log misbehaved, 2 cannot verify (bad input). */
async function verifyRemoteCommand(o: VerifyCliOptions): Promise<number> {
  const { verifyRemote, formatRemoteReport } = await import('../ledger/verify-remote.ts')
  const { readVkey } = await import('../ledger/verify-proof-cli.ts')
  const { configPath, freshSession } = await import('./session.ts')
  try {
    if (!o.key?.length) throw new Error('--remote needs --key VKEY: the log key you trust')
    const token = read(S.cliToken, process.env) || (await freshSession()).accessToken
    const host = new URL(o.remote!).host.replace(/[^A-Za-z0-9.-]/g, '_')
    const report = await verifyRemote({
      url: o.remote!,
      token,
      logKeys: o.key.map(readVkey),
      witnesses: (o.witness ?? []).map(readVkey),
      quorum: o.quorum === undefined ? undefined : Number(o.quorum),
      stateFile: path.resolve(o.state ?? path.join(path.dirname(configPath()), `verify-${host}.json`)),
      entries: o.entries,
    })
    console.log(o.json ? JSON.stringify(report, null, 2) : formatRemoteReport(report))
    return report.ok ? 0 : 1
  } catch (err) {
    console.error(`cf-ledger verify --remote: ${(err as Error).message}`)
    return 2
  }
}

program
  .command('verify-proof')
  .description("Check a task's .tlog-proof offline against the log's key (and witnesses' keys). Exit 0 proven, 1 not, 2 bad input")
  .argument('<file>', 'the .tlog-proof file (GET /ledger/v1/tasks/:guid/proof)')
  .requiredOption('--key <vkey...>', "the log's verifier key(s), as printed at start and served at /ledger/v1/log/key (text or file)")
  .option('--witness <vkey...>', 'witness cosignature keys that must have cosigned (text or file)')
  .option('--quorum <n>', 'how many of the witnesses must have cosigned (default: all)')
  .option('--task <guid>', 'fail unless the proof is about this task')
  .option('--json', 'print the result as JSON')
  .action(async (file: string, o: { key: string[]; witness?: string[]; quorum?: string; task?: string; json?: boolean }) => {
    const { verifyProofCommand } = await import('../ledger/verify-proof-cli.ts')
    process.exit(verifyProofCommand(file, { key: o.key, witness: o.witness, quorum: o.quorum === undefined ? undefined : Number(o.quorum), task: o.task, json: o.json }))
  })

program
  .command('witness')
  .description('Run a C2SP tlog-witness (add-checkpoint) for the given logs, with its own key and store')
  .requiredOption('--log <vkey...>', "the logs' verifier keys (text or file); a log's origin is its key name")
  .option('--dir <dir>', 'where the witness keeps its key and the latest cosigned checkpoint per log', '.cf-ledger-witness')
  .option('--name <name>', 'the witness name (key name of its cosignatures)', 'cf-ledger-witness')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 = any free port)', '8090')
  .action(async (o: { log: string[]; dir: string; name: string; host: string; port: string }) => {
    const { startWitness } = await import('../ledger/witness.ts')
    const { readVkey } = await import('../ledger/verify-proof-cli.ts')
    const w = await startWitness({ dir: path.resolve(o.dir), name: o.name, logKeys: o.log.map(readVkey), host: o.host, port: Number(o.port) })
    console.log(`cf-ledger witness key: ${w.vkey}`)
    console.log(`cf-ledger witness listening on ${w.url}`)
    const stop = () => void w.close().then(() => process.exit(0))
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })

program
  .command('collect')
  .description('Check a foundations file and each Cloud Foundry foundation in it before `serve --collect FILE` collects from them. Exit 0 ready, 1 a foundation is not, 2 the file is wrong')
  .argument('<file>', 'the foundations file: {"foundations": [{"name", "api", "client_id", "client_secret" | "client_secret_env", "ca_file"?, "skip_ssl_validation"?}]}')
  .addHelpText('after', `\nThe collector runs inside the server (docs/collect.md). Its settings:\n${helpText(['collect'])}`)
  .action(async (file: string) => {
    const { collectCheck } = await import('./collect.ts')
    process.exit(await collectCheck(file))
  })

program
  .command('build-template', { hidden: true })
  .description("The build's embedded-store template (npm run template): a migrated data directory new stores copy")
  .argument('<dir>')
  .action(async (dir: string) => {
    const { buildTemplate } = await import('../store/template-schema.ts')
    await buildTemplate(path.resolve(dir))
  })

addLedgerCommands(program)

// Not awaited at the top level: the bundle is CommonJS (scripts/bundle.ts); a rejection still ends the process.
void program.parseAsync()

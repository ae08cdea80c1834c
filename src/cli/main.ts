import path from 'node:path'
import { Command } from 'commander'
import { loadConfig } from '../config.ts'
import { addLedgerCommands } from './ledger-commands.ts'
import { verifyCommand } from './verify.ts'
import { helpText, reader } from '../settings/read.ts'
import { S } from '../settings/table.ts'

const program = new Command()
program.name('cf-ledger').description('A Cloud Foundry-compatible task runner with a tamper-evident audit ledger').version('0.1.0')

const serve = program.command('serve').description('Start the server (embedded PostgreSQL unless DATABASE_URL is set)')
for (const s of [S.port, S.host, S.dataDir, S.publicUrl]) serve.option(s.flag!, `${s.doc.replace(/`/g, '')} (or ${s.env})`)
serve
  .addHelpText('after', `\nEnvironment (flags win over variables; docs: README.md):\n${helpText(['server', 'auth', 'bits', 'tasks', 'logs', 'drains', 'audit', 'export'])}`)
  .action(async (opts: { port?: string; host?: string; dataDir?: string; publicUrl?: string }) => {
    let config
    try {
      config = loadConfig(opts)
    } catch (err) {
      console.error(`cf-ledger: ${(err as Error).message}`)
      process.exit(2)
    }
    // Loaded here so that `verify` works without the server's modules.
    const { startApp } = await import('../app.ts')
    const { DatabaseUnreachableError } = await import('../store/store.ts')
    let app
    try {
      app = await startApp(config)
    } catch (err) {
      if (!(err instanceof DatabaseUnreachableError)) throw err
      console.error(`cf-ledger: ${err.message}`)
      process.exit(1)
    }
    if (app.adminPassword) {
      console.log('Created the admin user. Log in with the cf CLI:')
      console.log(`  cf api ${config.publicUrl ?? app.url}`)
      console.log(`  cf auth admin '${app.adminPassword}'`)
    }
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
  .addHelpText(
    'after',
    `
With DATABASE_URL set, verify reads PostgreSQL in one read-only snapshot while the server runs.
Otherwise it reads a temporary copy of the embedded store in --data-dir; stop the server first.`,
  )
  .action(async (opts: { dataDir?: string; archiveDir?: string; publicKey?: string[]; json?: boolean; force?: boolean }) => {
    let settings
    try {
      const get = reader(process.env)
      const archiveDir = opts.archiveDir ?? get(S.archiveDir)
      settings = {
        dataDir: path.resolve(get(S.dataDir, opts.dataDir)),
        archiveDir: archiveDir === undefined ? undefined : path.resolve(archiveDir),
        databaseUrl: get(S.databaseUrl),
        checkpointKey: get(S.checkpointKey),
      }
    } catch (err) {
      console.error(`cf-ledger: ${(err as Error).message}`)
      process.exit(2)
    }
    const code = await verifyCommand({
      ...settings,
      publicKey: opts.publicKey,
      json: opts.json,
      force: opts.force,
    })
    process.exit(code)
  })

addLedgerCommands(program)

await program.parseAsync()

// Reading settings: a flag wins over the environment, which wins over the default. Test-only
// settings are refused in production mode. docs() renders the table for --help and the README.
import { S, SETTINGS, type Group, type Setting } from './table.ts'

export type Env = Readonly<Record<string, string | undefined>>

/** Whether the environment asks for production mode (NODE_ENV=production). */
export function productionMode(env: Env): boolean {
  return env[S.nodeEnv.env] === 'production'
}

/** One setting's value: `flag` (when given), else the variable, else the default. */
export function read<T>(s: Setting<T>, env: Env, flag?: string | number): T {
  const raw = flag !== undefined ? String(flag) : env[s.env]
  if (raw === undefined || raw === '') return s.default
  if (s.testOnly && productionMode(env)) throw new Error(`${s.env} is a test-only setting and is refused when NODE_ENV=production`)
  return s.parser.parse(raw, s.flag ? `${s.flag.split(' ')[0]} / ${s.env}` : s.env)
}

/** A reader bound to one environment: `get(S.port)`. */
export function reader(env: Env): <T>(s: Setting<T>, flag?: string | number) => T {
  return (s, flag) => read(s, env, flag)
}

const GROUP_TITLES: Record<Group, string> = {
  server: 'Server',
  auth: 'Tokens and users',
  bits: 'Packages and droplets',
  tasks: 'Tasks',
  cluster: 'Many servers on one database',
  logs: 'Task output and log streams',
  drains: 'Syslog drains',
  audit: 'Audit ledger',
  export: 'Audit export',
  collect: 'Collecting from Cloud Foundry foundations',
  cli: 'The cf-ledger CLI',
}

function defaultText(s: Setting<unknown>): string {
  if (s.defaultDoc) return s.defaultDoc
  const v = s.default
  return v === undefined || (Array.isArray(v) && v.length === 0) ? 'unset' : `\`${Array.isArray(v) ? v.join(',') : String(v)}\``
}

const plain = (md: string) => md.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/`/g, '')

/** The README's settings table (Markdown), grouped as the table is. */
export function markdownTable(groups: readonly Group[] = Object.keys(GROUP_TITLES) as Group[]): string {
  const rows = ['| flag | environment | default | meaning |', '|---|---|---|---|']
  for (const g of groups) {
    for (const s of SETTINGS.filter((x) => x.group === g)) {
      const doc = s.testOnly ? `*test only:* ${s.doc}` : s.doc
      rows.push(`|${s.flag ? ` \`${s.flag.split(' ')[0]}\` ` : ' '}| \`${s.env}\` | ${defaultText(s)} | ${doc} |`)
    }
  }
  return rows.join('\n')
}

/** `serve --help`'s list of environment variables, grouped, without Markdown. */
export function helpText(groups: readonly Group[]): string {
  const width = Math.max(...SETTINGS.map((s) => s.env.length)) + 2
  const out: string[] = []
  for (const g of groups) {
    out.push(`${GROUP_TITLES[g]}:`)
    for (const s of SETTINGS.filter((x) => x.group === g)) {
      const doc = `${s.testOnly ? '(test only) ' : ''}${plain(s.doc)} (default ${plain(defaultText(s))})`
      out.push(`  ${s.env.padEnd(width)}${doc}`)
    }
  }
  return out.join('\n')
}

// Command-line options of a benchmark, read with node's parseArgs: each option is declared with
// its default (a string, or `false` for a flag), so an unknown or malformed option stops the run
// with the list of what the benchmark takes instead of being ignored.
import path from 'node:path'
import { parseArgs } from 'node:util'

type Spec = Readonly<Record<string, string | false>>

export interface BenchArgs<S extends Spec> {
  /** A number option; exits with a message when the value is not a finite number. */
  num(name: keyof S & string): number
  str(name: keyof S & string): string
  /** A comma-separated option, e.g. `--stores postgres,embedded`. */
  list(name: keyof S & string): string[]
  flag(name: keyof S & string): boolean
  /** A string option with no default that was not given. */
  absent(name: keyof S & string): boolean
}

function usage(spec: Spec, problem: string): never {
  const script = path.basename(process.argv[1] ?? 'bench')
  const options = Object.entries(spec).map(([k, d]) => `  --${k}${d === false ? '' : ` <${d === '' ? 'value' : d}>`}`)
  console.error(`${script}: ${problem}\noptions (defaults in <>):\n${options.join('\n')}`)
  process.exit(2)
}

export function benchArgs<S extends Spec>(spec: S, argv: readonly string[] = process.argv.slice(2)): BenchArgs<S> {
  const options = Object.fromEntries(Object.entries(spec).map(([k, d]) => [k, d === false ? { type: 'boolean' as const } : { type: 'string' as const }]))
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values
  } catch (err) {
    usage(spec, (err as Error).message)
  }
  const str = (name: string) => (values[name] as string | undefined) ?? (spec[name] as string)
  return {
    str,
    num(name) {
      const n = Number(str(name))
      if (!Number.isFinite(n) || str(name) === '') usage(spec, `--${name} must be a number, not '${str(name)}'`)
      return n
    },
    list: (name) => str(name).split(',').filter(Boolean),
    flag: (name) => values[name] === true,
    absent: (name) => values[name] === undefined && spec[name] === '',
  }
}

// Process types of a droplet. Buildpacks do not run in cf-ledger, so a droplet's process types
// come from the package's top-level Procfile (`type: command` lines, as the buildpack lifecycle
// reads them) or, without one, are the types every CF app has: `web` and `task`.
const LINE = /^([A-Za-z0-9_-]+):\s*(.*?)\s*$/

export const DEFAULT_PROCESS_TYPES: Readonly<Record<string, string>> = { web: '', task: '' }

/** Parses a Procfile; undefined when it names no process type. */
export function parseProcfile(text: string): Record<string, string> | undefined {
  const types: Record<string, string> = {}
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (!m) continue
    let command = m[2]!
    if ((command.startsWith('"') && command.endsWith('"')) || (command.startsWith("'") && command.endsWith("'"))) {
      command = command.length >= 2 ? command.slice(1, -1) : command
    }
    types[m[1]!] = command
  }
  return Object.keys(types).length > 0 ? types : undefined
}

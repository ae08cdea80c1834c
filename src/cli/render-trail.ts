// Renders a trail record for a person: aligned fields, the output tail, integrity.
/* eslint-disable @typescript-eslint/no-explicit-any */

function rows(pairs: [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${`${k}:`.padEnd(width)}${v === null || v === '' ? '-' : String(v)}`)
    .join('\n')
}

export function renderTrail(t: any): string {
  const a = t.actor ?? {}
  const who = a.username || a.name || a.guid
  const out: string[] = []
  out.push(
    rows([
      ['task', `${t.task.name} (#${t.task.sequence_id}, ${t.task.guid})`],
      ['foundation', t.foundation ?? undefined],
      ['state', t.task.state],
      ['failure reason', t.task.failure_reason],
      ['exit status', t.task.exit_status],
      ['actor', `${who} (${a.type}${a.origin ? `, origin ${a.origin}` : ''}${a.client_id ? `, client ${a.client_id}` : ''})`],
      ['actor guid', a.guid],
      ['from', `${a.ip || '-'}${a.user_agent ? `  ${a.user_agent}` : ''}`],
      ['command', t.command],
      ['fingerprint', t.command_fingerprint],
      ['org / space / app', `${t.target.organization.name} / ${t.target.space.name} / ${t.target.app.name}`],
      ['app guid', t.target.app.guid],
      ['created', t.timing.created_at],
      ['started', t.timing.started_at],
      ['finished', t.timing.finished_at],
      ['duration', t.timing.duration_ms === null ? null : `${(t.timing.duration_ms / 1000).toFixed(3)} s`],
      ['memory / disk', `${t.resources.requested.memory_in_mb} MB / ${t.resources.requested.disk_in_mb} MB`],
      ['isolation', t.resources.limits.isolation],
      ['events', (t.events ?? []).map((e: any) => (e.seq === undefined ? `${e.type}@${e.created_at}` : `${e.type}#${e.seq}`)).join(', ')],
      ['integrity', t.integrity.verified ? `verified (${t.integrity.events_checked} events)` : `FAILED: ${t.integrity.problem}`],
    ]),
  )
  const s = t.output.summary
  out.push('')
  out.push(
    s
      ? `output: ${s.out_lines} stdout + ${s.err_lines} stderr lines, ${s.bytes} bytes, sha256 ${s.sha256}${s.truncated ? ' (stored output truncated)' : ''}${s.dropped_lines ? `, ${s.dropped_lines} lines dropped by the log rate limit` : ''}`
      : `output: ${t.output.total_lines} lines so far`,
  )
  const tail = t.output.tail ?? []
  if (tail.length < t.output.total_lines) out.push(`(last ${tail.length} of ${t.output.total_lines} lines; full output: ${t.output.href})`)
  for (const l of tail) out.push(`   ${l.timestamp} ${l.stream} ${l.text}`)
  return out.join('\n')
}

export function renderTaskTable(resources: any[]): string {
  if (resources.length === 0) return 'No tasks found.'
  const collected = resources.some((r) => r.foundation)
  const header = ['guid', 'app', 'id', 'name', 'state', 'actor', 'created', ...(collected ? ['foundation'] : [])]
  const body = resources.map((r) => [
    r.task.guid,
    r.target.app.name,
    String(r.task.sequence_id),
    r.task.name,
    r.task.state,
    r.actor.username || r.actor.name || r.actor.guid,
    r.created_at,
    ...(collected ? [r.foundation ?? 'local'] : []),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [fmt(header), ...body.map(fmt)].join('\n')
}

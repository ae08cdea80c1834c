import { useState } from 'preact/hooks'
import { between, duration, short, visible, when } from '../format.ts'
import { href, navigate } from '../router.ts'
import { api, authedFetch } from '../session.ts'
import { HIDDEN, type Named, type Paginated, type TaskSummary } from '../types.ts'
import { ErrorBox, Field, Pager, StateBadge, useLoad } from '../ui.tsx'

const PER_PAGE = 50
/** URL parameter → API filter. */
const FILTERS: Record<string, string> = {
  actor: 'actor_usernames',
  app: 'app_names',
  space: 'space_guids',
  org: 'organization_guids',
  state: 'states',
  command: 'command',
  seq: 'sequence_ids',
}

export function runsApiPath(q: URLSearchParams): string {
  const p = new URLSearchParams({
    per_page: String(PER_PAGE),
    page: q.get('page') ?? '1',
    order_by: q.get('order') ?? '-created_at',
  })
  for (const [k, api] of Object.entries(FILTERS)) {
    const v = q.get(k)?.trim()
    if (v) p.set(api, v)
  }
  const from = q.get('from')
  const to = q.get('to')
  if (from) p.set('created_ats[gte]', new Date(from).toISOString().replace(/\.\d+Z$/, 'Z'))
  if (to) p.set('created_ats[lte]', new Date(to).toISOString().replace(/\.\d+Z$/, 'Z'))
  return `/ledger/v1/tasks?${p}`
}

function useNames(path: string) {
  return useLoad(path, async () => (await api<Paginated<Named>>(path)).resources)
}

/** The first lines of a task's output: read the stream until five lines arrived, then stop. */
async function firstLines(guid: string, n = 5): Promise<string[]> {
  const ctrl = new AbortController()
  const res = await authedFetch(`/v3/tasks/${encodeURIComponent(guid)}/output`, {
    signal: ctrl.signal,
  })
  if (!res.ok || !res.body) return []
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (value) text += value
    if (done || text.split('\n').length > n) break
  }
  ctrl.abort()
  return text
    .split('\n')
    .slice(0, n)
    .filter((l, i, a) => l || i < a.length - 1)
}

function OutputCell(props: { t: TaskSummary }) {
  const [lines, setLines] = useState<string[] | null>(null)
  const o = props.t.output
  const total = o ? o.out_lines + o.err_lines : 0
  const load = () => {
    if (lines === null && total > 0)
      firstLines(props.t.task.guid).then(setLines, () => setLines([]))
  }
  return (
    <td
      class="output-cell"
      onMouseEnter={load}
      onFocus={load}
      tabIndex={total ? 0 : -1}
      data-label="Output"
    >
      {o ? `${total.toLocaleString('en-US')} ${total === 1 ? 'line' : 'lines'}` : '–'}
      {o && o.err_lines > 0 && <span class="err-count"> ({o.err_lines} stderr)</span>}
      {lines && lines.length > 0 && (
        <pre class="peek" role="tooltip">
          {lines.map((l) => visible(l)).join('\n')}
        </pre>
      )}
    </td>
  )
}

function Row(props: { t: TaskSummary }) {
  const { t } = props
  const hidden = t.command === HIDDEN
  return (
    <tr>
      <td data-label="Task">
        <a href={href(`runs/${t.task.guid}`)} class="run-link">
          {visible(t.task.name)} #{t.task.sequence_id}
        </a>
      </td>
      <td data-label="Who">
        <strong>{visible(t.actor.username ?? t.actor.name ?? t.actor.guid)}</strong>
        <div class="muted small">
          {t.actor.type}
          {t.actor.origin ? ` · ${t.actor.origin}` : ''}
          {t.actor.client_id ? ` · ${t.actor.client_id}` : ''}
          {t.actor.ip ? ` · ${t.actor.ip}` : ''}
        </div>
      </td>
      <td data-label="Command" class="command-cell">
        {hidden ? (
          <span class="fingerprint" title={t.command_fingerprint ?? ''}>
            {short(t.command_fingerprint ?? HIDDEN, 24)}
          </span>
        ) : (
          <code>{visible(t.command)}</code>
        )}
      </td>
      <td data-label="App / space / org">
        {visible(t.target.app.name)}
        <div class="muted small">
          {visible(t.target.space.name)} / {visible(t.target.organization.name)}
        </div>
      </td>
      <OutputCell t={t} />
      <td data-label="State">
        <StateBadge state={t.task.state} />
        {t.task.failure_reason && <div class="muted small">{visible(t.task.failure_reason)}</div>}
      </td>
      <td data-label="Started / finished">
        {when(t.started_at ?? t.created_at)}
        <div class="muted small">
          {when(t.finished_at)} · {duration(between(t.started_at, t.finished_at))}
        </div>
      </td>
    </tr>
  )
}

export function RunsPage(props: { query: URLSearchParams }) {
  const q = props.query
  const path = runsApiPath(q)
  const list = useLoad(path, () => api<Paginated<TaskSummary>>(path))
  const spaces = useNames('/v3/spaces?per_page=5000&order_by=name')
  const orgs = useNames('/v3/organizations?per_page=5000&order_by=name')
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(q)
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v)
      else next.delete(k)
    }
    if (!('page' in changes)) next.delete('page')
    navigate(href('runs', next))
  }
  function submit(e: Event) {
    e.preventDefault()
    const f = new FormData(e.currentTarget as HTMLFormElement)
    const changes: Record<string, string | undefined> = {}
    for (const k of [...Object.keys(FILTERS), 'from', 'to'])
      changes[k] = String(f.get(k) ?? '').trim() || undefined
    set(changes)
  }
  const order = q.get('order') ?? '-created_at'
  const sortButton = (column: string, label: string) => {
    const active = order.replace('-', '') === column
    const desc = order.startsWith('-')
    return (
      <button
        type="button"
        class="sort"
        aria-label={`sort by ${label}`}
        aria-sort={active ? (desc ? 'descending' : 'ascending') : undefined}
        onClick={() => set({ order: active && desc ? column : `-${column}` })}
      >
        {label} {active ? (desc ? '↓' : '↑') : ''}
      </button>
    )
  }
  return (
    <section>
      <h1>Task runs</h1>
      <form class="filters card" onSubmit={submit} key={q.toString()}>
        <Field label="Actor (username)">
          <input name="actor" defaultValue={q.get('actor') ?? ''} />
        </Field>
        <Field label="App">
          <input name="app" defaultValue={q.get('app') ?? ''} />
        </Field>
        <Field label="Space">
          <select name="space">
            <option value="">any</option>
            {spaces.data?.map((s) => (
              <option value={s.guid} selected={q.get('space') === s.guid}>
                {visible(s.name)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Org">
          <select name="org">
            <option value="">any</option>
            {orgs.data?.map((o) => (
              <option value={o.guid} selected={q.get('org') === o.guid}>
                {visible(o.name)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="State">
          <select name="state">
            <option value="">any</option>
            {['PENDING', 'RUNNING', 'CANCELING', 'SUCCEEDED', 'FAILED'].map((s) => (
              <option selected={q.get('state') === s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="From">
          <input name="from" type="datetime-local" step="1" defaultValue={q.get('from') ?? ''} />
        </Field>
        <Field label="To">
          <input name="to" type="datetime-local" step="1" defaultValue={q.get('to') ?? ''} />
        </Field>
        <Field label="Exact command">
          <input
            name="command"
            defaultValue={q.get('command') ?? ''}
            placeholder="matched by fingerprint"
          />
        </Field>
        <Field label="Sequence id">
          <input name="seq" inputMode="numeric" defaultValue={q.get('seq') ?? ''} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Search
          </button>
          <a class="button" href={href('runs')}>
            Clear
          </a>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table
          class="runs"
          aria-busy={list.loading}
          data-query={list.loadedKey === path ? q.toString() : undefined}
        >
          <thead>
            <tr>
              <th>Task</th>
              <th>Who</th>
              <th>Command</th>
              <th>App / space / org</th>
              <th>Output</th>
              <th>State</th>
              <th>
                {sortButton('created_at', 'Started')} · {sortButton('updated_at', 'Updated')}
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data?.resources.map((t) => (
              <Row t={t} key={t.task.guid} />
            ))}
          </tbody>
        </table>
        {list.data && list.data.resources.length === 0 && <p class="empty">No task runs match.</p>}
      </div>
      {list.data && (
        <Pager
          page={Number(q.get('page') ?? 1)}
          perPage={PER_PAGE}
          total={list.data.pagination.total_results}
          onPage={(p) => set({ page: String(p) })}
        />
      )}
    </section>
  )
}

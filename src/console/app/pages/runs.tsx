import { useState } from 'preact/hooks'
import { between, duration, short, visible, when } from '../format.ts'
import {
  FilterForm,
  listApiPath,
  ListTable,
  SortButton,
  SpaceOrgFields,
  TimeRangeFields,
  useUrlFilters,
} from '../list-page.tsx'
import { href } from '../router.ts'
import { api, authedFetch } from '../session.ts'
import { HIDDEN, type Paginated, type TaskSummary } from '../types.ts'
import { Field, StateBadge, useLoad } from '../ui.tsx'

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

export const runsApiPath = (q: URLSearchParams) => listApiPath('/ledger/v1/tasks', q, FILTERS)

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
  const { set, submit } = useUrlFilters('runs', q, FILTERS)
  return (
    <section>
      <h1>Task runs</h1>
      <FilterForm q={q} page="runs" onSubmit={submit}>
        <Field label="Actor (username)">
          <input name="actor" defaultValue={q.get('actor') ?? ''} />
        </Field>
        <Field label="App">
          <input name="app" defaultValue={q.get('app') ?? ''} />
        </Field>
        <SpaceOrgFields q={q} />
        <Field label="State">
          <select name="state">
            <option value="">any</option>
            {['PENDING', 'RUNNING', 'CANCELING', 'SUCCEEDED', 'FAILED'].map((s) => (
              <option selected={q.get('state') === s}>{s}</option>
            ))}
          </select>
        </Field>
        <TimeRangeFields q={q} />
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
      </FilterForm>
      <ListTable
        name="runs"
        q={q}
        path={path}
        list={list}
        set={set}
        empty="No task runs match."
        head={
          <>
            <th>Task</th>
            <th>Who</th>
            <th>Command</th>
            <th>App / space / org</th>
            <th>Output</th>
            <th>State</th>
            <th>
              <SortButton q={q} set={set} column="created_at" label="Started" /> ·{' '}
              <SortButton q={q} set={set} column="updated_at" label="Updated" />
            </th>
          </>
        }
        row={(t) => <Row t={t} key={t.task.guid} />}
      />
    </section>
  )
}

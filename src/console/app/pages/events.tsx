import { useState } from 'preact/hooks'
import { APP_EVENT_TYPES } from '../../../audit/event-types.ts'
import { visible, when } from '../format.ts'
import { href, navigate } from '../router.ts'
import { api } from '../session.ts'
import type { AuditEvent, Named, Paginated } from '../types.ts'
import { ErrorBox, Field, Pager, useLoad } from '../ui.tsx'

const PER_PAGE = 50
const FILTERS: Record<string, string> = {
  types: 'types',
  target: 'target_guids',
  space: 'space_guids',
  org: 'organization_guids',
}

function apiPath(q: URLSearchParams): string {
  const p = new URLSearchParams({
    per_page: String(PER_PAGE),
    page: q.get('page') ?? '1',
    order_by: q.get('order') ?? '-created_at',
  })
  for (const [k, a] of Object.entries(FILTERS)) {
    const v = q.get(k)?.trim()
    if (v) p.set(a, v)
  }
  const from = q.get('from')
  const to = q.get('to')
  if (from) p.set('created_ats[gte]', new Date(from).toISOString().replace(/\.\d+Z$/, 'Z'))
  if (to) p.set('created_ats[lte]', new Date(to).toISOString().replace(/\.\d+Z$/, 'Z'))
  return `/v3/audit_events?${p}`
}

const TASK_EVENTS: ReadonlySet<string> = new Set([APP_EVENT_TYPES.taskCreate, APP_EVENT_TYPES.taskCancel, APP_EVENT_TYPES.taskComplete])

function taskGuidOf(e: AuditEvent): string | null {
  return TASK_EVENTS.has(e.type) && typeof e.data.task_guid === 'string'
    ? e.data.task_guid
    : null
}

function EventRow(props: { e: AuditEvent }) {
  const { e } = props
  const [open, setOpen] = useState(false)
  const task = taskGuidOf(e)
  return (
    <>
      <tr>
        <td data-label="Time">{when(e.created_at)}</td>
        <td data-label="Type">{e.type}</td>
        <td data-label="Actor">
          {visible(e.actor.name ?? e.actor.guid)}
          <div class="muted small">{e.actor.type}</div>
        </td>
        <td data-label="Target">
          {visible(e.target.name)}
          <div class="muted small">{e.target.type}</div>
        </td>
        <td data-label="">
          <button type="button" class="quiet" aria-expanded={open} onClick={() => setOpen(!open)}>
            JSON
          </button>
          {task && (
            <a href={href(`runs/${task}`)} class="button quiet">
              Task run →
            </a>
          )}
        </td>
      </tr>
      {open && (
        <tr class="json-row">
          <td colSpan={5}>
            <pre class="json">{JSON.stringify(e, null, 2)}</pre>
          </td>
        </tr>
      )}
    </>
  )
}

export function EventsPage(props: { query: URLSearchParams }) {
  const q = props.query
  const path = apiPath(q)
  const list = useLoad(path, () => api<Paginated<AuditEvent>>(path))
  const spaces = useLoad(
    'spaces',
    async () => (await api<Paginated<Named>>('/v3/spaces?per_page=5000&order_by=name')).resources,
  )
  const orgs = useLoad(
    'orgs',
    async () =>
      (await api<Paginated<Named>>('/v3/organizations?per_page=5000&order_by=name')).resources,
  )
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(q)
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v)
      else next.delete(k)
    }
    if (!('page' in changes)) next.delete('page')
    navigate(href('events', next))
  }
  function submit(ev: Event) {
    ev.preventDefault()
    const f = new FormData(ev.currentTarget as HTMLFormElement)
    const changes: Record<string, string | undefined> = {}
    for (const k of [...Object.keys(FILTERS), 'from', 'to'])
      changes[k] = String(f.get(k) ?? '').trim() || undefined
    set(changes)
  }
  return (
    <section>
      <h1>Audit events</h1>
      <form class="filters card" onSubmit={submit} key={q.toString()}>
        <Field label="Types (comma-separated)">
          <input
            name="types"
            defaultValue={q.get('types') ?? ''}
            placeholder="audit.app.task.create,…"
          />
        </Field>
        <Field label="Target guid">
          <input name="target" defaultValue={q.get('target') ?? ''} />
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
        <Field label="From">
          <input name="from" type="datetime-local" step="1" defaultValue={q.get('from') ?? ''} />
        </Field>
        <Field label="To">
          <input name="to" type="datetime-local" step="1" defaultValue={q.get('to') ?? ''} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Search
          </button>
          <a class="button" href={href('events')}>
            Clear
          </a>
        </div>
      </form>
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table
          class="events"
          aria-busy={list.loading}
          data-query={list.loadedKey === path ? q.toString() : undefined}
        >
          <thead>
            <tr>
              <th>
                <button
                  type="button"
                  class="sort"
                  onClick={() =>
                    set({
                      order:
                        (q.get('order') ?? '-created_at') === '-created_at'
                          ? 'created_at'
                          : '-created_at',
                    })
                  }
                >
                  Time {(q.get('order') ?? '-created_at') === '-created_at' ? '↓' : '↑'}
                </button>
              </th>
              <th>Type</th>
              <th>Actor</th>
              <th>Target</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.resources.map((e) => (
              <EventRow e={e} key={e.guid} />
            ))}
          </tbody>
        </table>
        {list.data && list.data.resources.length === 0 && (
          <p class="empty">No audit events match.</p>
        )}
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

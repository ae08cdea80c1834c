import { useState } from 'preact/hooks'
import { APP_EVENT_TYPES } from '../../../audit/event-types.ts'
import { visible, when } from '../format.ts'
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
import { api } from '../session.ts'
import type { AuditEvent, Paginated } from '../types.ts'
import { Field, useLoad } from '../ui.tsx'

const FILTERS: Record<string, string> = {
  types: 'types',
  actor: 'actor_usernames',
  target: 'target_guids',
  space: 'space_guids',
  org: 'organization_guids',
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
  const path = listApiPath('/v3/audit_events', q, FILTERS)
  const list = useLoad(path, () => api<Paginated<AuditEvent>>(path))
  const { set, submit } = useUrlFilters('events', q, FILTERS)
  return (
    <section>
      <h1>Audit events</h1>
      <FilterForm q={q} page="events" onSubmit={submit}>
        <Field label="Types (comma-separated)">
          <input
            name="types"
            defaultValue={q.get('types') ?? ''}
            placeholder="audit.app.task.create,…"
          />
        </Field>
        <Field label="Actor (username)">
          <input name="actor" defaultValue={q.get('actor') ?? ''} placeholder="dana,admin" />
        </Field>
        <Field label="Target guid">
          <input name="target" defaultValue={q.get('target') ?? ''} />
        </Field>
        <SpaceOrgFields q={q} />
        <TimeRangeFields q={q} />
      </FilterForm>
      <ListTable
        name="events"
        q={q}
        path={path}
        list={list}
        set={set}
        empty="No audit events match."
        head={
          <>
            <th>
              <SortButton q={q} set={set} column="created_at" label="Time" />
            </th>
            <th>Type</th>
            <th>Actor</th>
            <th>Target</th>
            <th />
          </>
        }
        row={(e) => <EventRow e={e} key={e.guid} />}
      />
    </section>
  )
}

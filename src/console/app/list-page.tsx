// What the list pages (task runs, audit events) share: filters kept in the URL and mapped onto
// the API's query, the space and org pickers, the time range, sortable headers, and the table
// with its busy/answered state (data-query: the query the shown rows answer), empty text and pager.
import type { ComponentChildren } from 'preact'
import { visible } from './format.ts'
import { href, navigate } from './router.ts'
import { api } from './session.ts'
import type { Named, Paginated } from './types.ts'
import { ErrorBox, Field, Pager, useLoad, type Loaded } from './ui.tsx'

export const PER_PAGE = 50

/** `?page&order&<filters>&from&to` (the URL) as the API's query; `filters` maps URL → API names. */
export function listApiPath(
  base: string,
  q: URLSearchParams,
  filters: Record<string, string>,
): string {
  const p = new URLSearchParams({
    per_page: String(PER_PAGE),
    page: q.get('page') ?? '1',
    order_by: q.get('order') ?? '-created_at',
  })
  for (const [k, a] of Object.entries(filters)) {
    const v = q.get(k)?.trim()
    if (v) p.set(a, v)
  }
  const cc = (local: string) => new Date(local).toISOString().replace(/\.\d+Z$/, 'Z')
  const from = q.get('from')
  const to = q.get('to')
  if (from) p.set('created_ats[gte]', cc(from))
  if (to) p.set('created_ats[lte]', cc(to))
  return `${base}?${p}`
}

/** Changing the URL's filters: `set` merges changes (a filter change goes back to page 1). */
export function useUrlFilters(page: string, q: URLSearchParams, filters: Record<string, string>) {
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(q)
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v)
      else next.delete(k)
    }
    if (!('page' in changes)) next.delete('page')
    navigate(href(page, next))
  }
  const submit = (e: Event) => {
    e.preventDefault()
    const f = new FormData(e.currentTarget as HTMLFormElement)
    const changes: Record<string, string | undefined> = {}
    for (const k of [...Object.keys(filters), 'from', 'to'])
      changes[k] = String(f.get(k) ?? '').trim() || undefined
    set(changes)
  }
  return { set, submit }
}

function useNames(path: string) {
  return useLoad(path, async () => (await api<Paginated<Named>>(path)).resources)
}

/** The space and org pickers, from the spaces and orgs the user can read. */
export function SpaceOrgFields(props: { q: URLSearchParams }) {
  const spaces = useNames('/v3/spaces?per_page=5000&order_by=name')
  const orgs = useNames('/v3/organizations?per_page=5000&order_by=name')
  const select = (name: string, label: string, items: Named[] | undefined) => (
    <Field label={label}>
      <select name={name}>
        <option value="">any</option>
        {items?.map((s) => (
          <option value={s.guid} selected={props.q.get(name) === s.guid}>
            {visible(s.name)}
          </option>
        ))}
      </select>
    </Field>
  )
  return (
    <>
      {select('space', 'Space', spaces.data)}
      {select('org', 'Org', orgs.data)}
    </>
  )
}

export function TimeRangeFields(props: { q: URLSearchParams }) {
  return (
    <>
      <Field label="From">
        <input
          name="from"
          type="datetime-local"
          step="1"
          defaultValue={props.q.get('from') ?? ''}
        />
      </Field>
      <Field label="To">
        <input name="to" type="datetime-local" step="1" defaultValue={props.q.get('to') ?? ''} />
      </Field>
    </>
  )
}

/** The filter form: re-created when the URL changes, so its fields show the URL's filters. */
export function FilterForm(props: {
  q: URLSearchParams
  page: string
  onSubmit: (e: Event) => void
  children: ComponentChildren
}) {
  return (
    <form class="filters card" onSubmit={props.onSubmit} key={props.q.toString()}>
      {props.children}
      <div class="actions">
        <button type="submit" class="primary">
          Search
        </button>
        <a class="button" href={href(props.page)}>
          Clear
        </a>
      </div>
    </form>
  )
}

/** A header button sorting by `column`: newest first on the first click, then flipping. */
export function SortButton(props: {
  q: URLSearchParams
  column: string
  label: string
  set: (c: Record<string, string>) => void
}) {
  const order = props.q.get('order') ?? '-created_at'
  const active = order.replace('-', '') === props.column
  const desc = order.startsWith('-')
  return (
    <button
      type="button"
      class="sort"
      aria-label={`sort by ${props.label}`}
      aria-sort={active ? (desc ? 'descending' : 'ascending') : undefined}
      onClick={() => props.set({ order: active && desc ? props.column : `-${props.column}` })}
    >
      {props.label} {active ? (desc ? '↓' : '↑') : ''}
    </button>
  )
}

/** The result table, its empty text and the pager. */
export function ListTable<T>(props: {
  name: string
  q: URLSearchParams
  path: string
  list: Loaded<Paginated<T>>
  head: ComponentChildren
  row: (item: T) => ComponentChildren
  empty: string
  set: (c: Record<string, string>) => void
}) {
  const { list, q } = props
  return (
    <>
      <ErrorBox error={list.error} />
      <div class="table-wrap">
        <table
          class={props.name}
          aria-busy={list.loading}
          data-query={list.loadedKey === props.path ? q.toString() : undefined}
        >
          <thead>
            <tr>{props.head}</tr>
          </thead>
          <tbody>{list.data?.resources.map(props.row)}</tbody>
        </table>
        {list.data && list.data.resources.length === 0 && <p class="empty">{props.empty}</p>}
      </div>
      {list.data && (
        <Pager
          page={Number(q.get('page') ?? 1)}
          perPage={PER_PAGE}
          total={list.data.pagination.total_results}
          onPage={(p) => props.set({ page: String(p) })}
        />
      )}
    </>
  )
}

import type { ComponentChildren } from 'preact'
import { useLayoutEffect, useState } from 'preact/hooks'

export interface Loaded<T> {
  readonly data?: T
  readonly error?: string
  readonly loading: boolean
  /** The key the shown data was loaded for. */
  readonly loadedKey?: string
  reload(): void
}

/**
 * Runs `load` whenever `key` changes; the newest answer wins. A layout effect, so the request
 * leaves before the first paint instead of after it (Preact runs plain effects after painting).
 */
export function useLoad<T>(key: string, load: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{
    data?: T
    error?: string
    loading: boolean
    loadedKey?: string
  }>({ loading: true })
  const [tick, setTick] = useState(0)
  useLayoutEffect(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => live && setState({ data, loading: false, loadedKey: key }),
      (err: Error) => live && setState({ error: err.message, loading: false, loadedKey: key }),
    )
    return () => {
      live = false
    }
  }, [key, tick])
  return { ...state, reload: () => setTick((t) => t + 1) }
}

export function ErrorBox(props: { error: string | undefined }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null
}

export function Field(props: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {props.children}
    </label>
  )
}

export function StateBadge(props: { state: string }) {
  return <span class={`state state-${props.state.toLowerCase()}`}>{props.state}</span>
}

export function download(fileName: string, type: string, data: BlobPart): void {
  const url = URL.createObjectURL(new Blob([data], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function Pager(props: {
  page: number
  total: number
  perPage: number
  onPage: (p: number) => void
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.perPage))
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        ← Previous
      </button>
      <span>
        page {props.page} of {pages} · {props.total.toLocaleString('en-US')} results
      </span>
      <button
        type="button"
        disabled={props.page >= pages}
        onClick={() => props.onPage(props.page + 1)}
      >
        Next →
      </button>
    </nav>
  )
}

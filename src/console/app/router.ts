// Hash routes (#/runs?actor=dana): the filters live in the URL, so a link can be shared; the
// server only ever serves /console.
import { useEffect, useState } from 'preact/hooks'

export interface Route {
  readonly path: string[]
  readonly query: URLSearchParams
}

export function parseRoute(hash = location.hash): Route {
  const [p = '', q = ''] = hash.replace(/^#\/?/, '').split('?', 2)
  return {
    path: p.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(q),
  }
}

export function href(
  path: string,
  query?: Record<string, string | undefined> | URLSearchParams,
): string {
  const q =
    query instanceof URLSearchParams
      ? query
      : new URLSearchParams(
          Object.entries(query ?? {}).filter((e): e is [string, string] => !!e[1]),
        )
  const s = q.toString()
  return `#/${path}${s ? `?${s}` : ''}`
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  window.dispatchEvent(new HashChangeEvent('hashchange'))
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute)
  useEffect(() => {
    const on = () => setRoute(parseRoute())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return route
}

import './console.css'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { EventsPage } from './pages/events.tsx'
import { KeysPage } from './pages/keys.tsx'
import { OverviewPage } from './pages/overview.tsx'
import { RunPage } from './pages/run.tsx'
import { RunsPage } from './pages/runs.tsx'
import { SignIn } from './pages/signin.tsx'
import { href, useRoute } from './router.ts'
import { onSession, session, signOut, type Session } from './session.ts'

const THEME = 'cf-ledger-console-theme'

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(
    () =>
      localStorage.getItem(THEME) ??
      (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
  )
  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])
  return [
    theme,
    () => {
      const next = theme === 'dark' ? 'light' : 'dark'
      localStorage.setItem(THEME, next)
      setTheme(next)
    },
  ]
}

function App() {
  const [user, setUser] = useState<Session | null>(session)
  const route = useRoute()
  const [theme, toggleTheme] = useTheme()
  useEffect(() => onSession(setUser), [])
  const [page = 'runs', id] = route.path
  const nav = (to: string, label: string) => (
    <a href={href(to)} aria-current={page === to ? 'page' : undefined}>
      {label}
    </a>
  )
  return (
    <>
      <header class="top">
        <a class="brand" href={href('runs')}>
          cf-ledger
        </a>
        {user && (
          <nav class="main-nav" aria-label="main">
            {nav('runs', 'Task runs')}
            {nav('events', 'Audit events')}
            {nav('overview', 'Overview')}
            {nav('keys', 'Keys')}
          </nav>
        )}
        <div class="who">
          <button
            type="button"
            class="quiet"
            onClick={toggleTheme}
            aria-label={`switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          {user && (
            <>
              <span class="user" data-testid="user">
                {user.username}
              </span>
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </>
          )}
        </div>
      </header>
      <main>
        {!user ? (
          <SignIn />
        ) : page === 'runs' && id ? (
          <RunPage guid={id} key={id} />
        ) : page === 'events' ? (
          <EventsPage query={route.query} />
        ) : page === 'overview' ? (
          <OverviewPage />
        ) : page === 'keys' ? (
          <KeysPage />
        ) : (
          <RunsPage query={route.query} />
        )}
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)

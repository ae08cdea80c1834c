import { useState } from 'preact/hooks'
import { signIn } from '../session.ts'
import { ErrorBox, Field } from '../ui.tsx'

export function SignIn() {
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  async function submit(e: Event) {
    e.preventDefault()
    const form = new FormData(e.currentTarget as HTMLFormElement)
    setBusy(true)
    setError(undefined)
    try {
      await signIn(String(form.get('username')), String(form.get('password')))
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="signin card" onSubmit={submit}>
      <h1>Sign in</h1>
      <p class="muted">
        With your cf-ledger user, as for `cf auth`. What you see follows your roles.
      </p>
      <Field label="Username">
        <input name="username" autocomplete="username" required autofocus />
      </Field>
      <Field label="Password">
        <input name="password" type="password" autocomplete="current-password" required />
      </Field>
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  )
}

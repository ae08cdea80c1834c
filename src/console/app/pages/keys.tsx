import { useState } from 'preact/hooks'
import { pinnedKeys, savePinnedKeys } from '../verify/index.ts'
import { fromBase64, keyIdOf, spkiFromText } from '../verify/webcrypto.ts'
import { ErrorBox, Field } from '../ui.tsx'

export function KeysPage() {
  const [keys, setKeys] = useState(pinnedKeys)
  const [error, setError] = useState<string>()
  const save = (next: typeof keys) => {
    savePinnedKeys(next)
    setKeys(next)
  }
  async function add(e: Event) {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const f = new FormData(form)
    try {
      const spki = spkiFromText(String(f.get('key')))
      const keyId = await keyIdOf(fromBase64(spki))
      save([
        ...keys.filter((k) => k.keyId !== keyId),
        { keyId, spki, note: String(f.get('note') ?? '') },
      ])
      form.reset()
      setError(undefined)
    } catch (err) {
      setError(`Not a public key: ${(err as Error).message}`)
    }
  }
  return (
    <section>
      <h1>Pinned checkpoint keys</h1>
      <p class="muted">
        Integrity checks trust only these Ed25519 public keys once you pin one. Get the key from the
        operator out of band (<code>DATA_DIR/checkpoint-keys/&lt;id&gt;.pub.pem</code>). Public keys
        are not secrets; they stay in this browser.
      </p>
      <ul class="keys">
        {keys.map((k) => (
          <li>
            <code>{k.keyId}</code> {k.note}{' '}
            <button type="button" onClick={() => save(keys.filter((x) => x.keyId !== k.keyId))}>
              Remove
            </button>
          </li>
        ))}
        {keys.length === 0 && (
          <li class="muted">No keys pinned: checks use the key the server serves.</li>
        )}
      </ul>
      <form class="card" onSubmit={add}>
        <Field label="Public key (PEM)">
          <textarea name="key" rows={4} required />
        </Field>
        <Field label="Note">
          <input name="note" />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary">
          Pin key
        </button>
      </form>
    </section>
  )
}

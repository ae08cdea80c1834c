import { useState } from 'preact/hooks'
import { pinnedKeys, savePinnedKeys } from '../verify/index.ts'
import { hex8, parseVkey } from '../verify/tlog.ts'
import type { PinnedKey } from '../verify/verifier.ts'
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
      const text = String(f.get('key')).trim()
      const note = String(f.get('note') ?? '')
      let key: PinnedKey
      if (text.includes('-----BEGIN')) {
        const spki = spkiFromText(text)
        key = { keyId: await keyIdOf(fromBase64(spki)), spki, note }
      } else {
        const v = await parseVkey(text)
        key = { keyId: `${v.name}+${hex8(v.id)}`, vkey: v.text, note }
      }
      save([...keys.filter((k) => k.keyId !== key.keyId), key])
      form.reset()
      setError(undefined)
    } catch (err) {
      setError(`Not a public key: ${(err as Error).message}`)
    }
  }
  return (
    <section>
      <h1>Pinned keys</h1>
      <p class="muted">
        Integrity checks trust only the Ed25519 public keys pinned here once you pin one of a kind:
        the ledger log's verifier key (<code>origin+id+key</code>, printed by the server at start),
        witnesses' cosignature keys (each pinned witness must have cosigned) and the audit chain's
        checkpoint key (PEM, <code>DATA_DIR/checkpoint-keys/&lt;id&gt;.pub.pem</code>). Get them
        from the operator out of band. Public keys are not secrets; they stay in this browser.
      </p>
      <ul class="keys">
        {keys.map((k) => (
          <li>
            <code>{k.keyId}</code> {k.vkey ? 'vkey' : 'PEM'} {k.note}{' '}
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
        <Field label="Public key (vkey or PEM)">
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

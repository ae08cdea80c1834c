import { useEffect, useState } from 'preact/hooks'
import type { Trail } from './types.ts'
import { download } from './ui.tsx'
import { pinnedKeys, savePinnedKeys, verifiers } from './verify/index.ts'
import type { VerificationResult } from './verify/verifier.ts'

async function runVerifiers(trail: Trail): Promise<VerificationResult | null> {
  for (const v of verifiers) {
    const r = await v.verify(trail, pinnedKeys())
    if (r) return r
  }
  return null
}

export function IntegrityPanel(props: { trail: Trail; version: number }) {
  const [result, setResult] = useState<VerificationResult | null>()
  const [error, setError] = useState<string>()
  const [pins, setPins] = useState(0)
  useEffect(() => {
    runVerifiers(props.trail).then(setResult, (e: Error) => setError(e.message))
  }, [props.trail.task.guid, props.version, pins])
  const served = result?.servedKey
  const pinned = served ? pinnedKeys().some((k) => k.keyId === served.keyId) : false
  function pin() {
    if (!served) return
    savePinnedKeys([
      ...pinnedKeys(),
      { ...served, note: `${served.note}, pinned from ${location.host}` },
    ])
    setPins((n) => n + 1)
  }
  const verdict = error
    ? 'error'
    : result === undefined
      ? 'checking'
      : result === null
        ? 'none'
        : result.ok
          ? 'ok'
          : 'bad'
  return (
    <section
      class={`integrity card verdict-${verdict}`}
      aria-label="integrity"
      data-testid="integrity"
      data-verdict={verdict}
    >
      <h2>Integrity, checked in this browser</h2>
      <p class="verdict" role="status">
        {verdict === 'checking' && 'Checking…'}
        {verdict === 'error' && `Could not check: ${error}`}
        {verdict === 'none' &&
          'No proof for this task yet: its .tlog-proof is served once the task has ended and a signed log checkpoint covers it.'}
        {verdict === 'ok' &&
          `✔ Verified (${result!.verifier}): ${result!.checks.length} checks passed`}
        {verdict === 'bad' &&
          `✘ NOT verified (${result!.verifier}): ${result!.checks.filter((c) => !c.ok).length} of ${result!.checks.length} checks failed`}
      </p>
      {result && (
        <>
          <ul class="checks">
            {result.checks.map((c) => (
              <li class={c.ok ? 'ok' : 'bad'}>
                <span aria-hidden="true">{c.ok ? '✔' : '✘'}</span> <strong>{c.label}</strong>:{' '}
                {c.detail}
              </li>
            ))}
          </ul>
          <details>
            <summary>What this does not check</summary>
            <ul>
              {result.notChecked.map((n) => (
                <li>{n}</li>
              ))}
            </ul>
          </details>
          <div class="actions">
            <button
              type="button"
              onClick={() =>
                download(result.evidence.fileName, result.evidence.type, result.evidence.text)
              }
            >
              Download{' '}
              {result.evidence.fileName.endsWith('.tlog-proof') ? '.tlog-proof' : 'evidence'}
            </button>
            {served && !pinned && (
              <button type="button" onClick={pin}>
                Pin key {served.keyId}
              </button>
            )}
            {pinned && <span class="muted">key {served!.keyId} pinned</span>}
          </div>
        </>
      )}
    </section>
  )
}

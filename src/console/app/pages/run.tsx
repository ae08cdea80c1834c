import { useEffect, useRef, useState } from 'preact/hooks'
import { duration, visible, when } from '../format.ts'
import { IntegrityPanel } from '../integrity.tsx'
import { OutputViewer } from '../output-viewer.tsx'
import { href } from '../router.ts'
import { api, canWrite, isAdmin, session } from '../session.ts'
import { HIDDEN, TERMINAL, type Trail } from '../types.ts'
import { ErrorBox, StateBadge, useLoad } from '../ui.tsx'

function Answer(props: { title: string; children: preact.ComponentChildren }) {
  return (
    <div class="answer card">
      <h2>{props.title}</h2>
      {props.children}
    </div>
  )
}

function Row(props: { k: string; v: preact.ComponentChildren }) {
  return (
    <>
      <dt>{props.k}</dt>
      <dd>{props.v ?? '–'}</dd>
    </>
  )
}

/** The executor's isolation note is long: its first sentence, the rest on demand. */
function Isolation(props: { text: string }) {
  const first = /^[^.:]*[.:]/.exec(props.text)?.[0] ?? props.text
  if (first.length >= props.text.length) return <>{props.text}</>
  return (
    <details class="isolation">
      <summary>{first.replace(/[.:]$/, '')}</summary>
      {props.text}
    </details>
  )
}

export function RunPage(props: { guid: string }) {
  const [version, setVersion] = useState(0)
  const trail = useLoad(`${props.guid}:${version}`, () =>
    api<Trail>(`/ledger/v1/tasks/${encodeURIComponent(props.guid)}/trail?output_lines=0`),
  )
  const [cancelError, setCancelError] = useState<string>()
  const t = trail.data
  const live = !!t && !TERMINAL.has(t.task.state)
  const liveRef = useRef(live)
  liveRef.current = live
  // While the task runs, its record is re-read every two seconds (the output streams by itself).
  useEffect(() => {
    if (!live) return
    const timer = setTimeout(() => setVersion((v) => v + 1), 2000)
    return () => clearTimeout(timer)
  }, [live, version])
  // The output starts streaming with the record, not after it.
  const viewer = (
    <OutputViewer
      guid={props.guid}
      live={t ? live : undefined}
      onDone={() => liveRef.current && setVersion((v) => v + 1)}
    />
  )
  if (!t)
    return trail.error ? (
      <ErrorBox error={trail.error} />
    ) : (
      <section class="run">
        <p class="muted">Loading…</p>
        {viewer}
      </section>
    )
  const hidden = t.command === HIDDEN
  const s = session()
  const mayCancel = live && t.task.state !== 'CANCELING' && canWrite(s) && (isAdmin(s) || !hidden)
  async function cancel() {
    try {
      await api(`/v3/tasks/${encodeURIComponent(props.guid)}/actions/cancel`, { method: 'POST' })
      setVersion((v) => v + 1)
    } catch (err) {
      setCancelError((err as Error).message)
    }
  }
  const sum = t.output.summary
  return (
    <section class="run">
      <p>
        <a href={href('runs')}>← Task runs</a>
      </p>
      <div class="run-head">
        <h1>
          {visible(t.task.name)} <span class="muted">#{t.task.sequence_id}</span>
        </h1>
        <StateBadge state={t.task.state} />
        {mayCancel && (
          <button type="button" class="danger" onClick={cancel}>
            Cancel task
          </button>
        )}
      </div>
      <ErrorBox error={cancelError} />
      <div class="answers">
        <Answer title="Who ran it">
          <dl>
            <Row k="actor" v={visible(t.actor.username ?? t.actor.name ?? '')} />
            <Row
              k="type / origin"
              v={`${t.actor.type}${t.actor.origin ? ` / ${t.actor.origin}` : ''}`}
            />
            <Row k="client" v={t.actor.client_id} />
            <Row k="from" v={t.actor.ip} />
            <Row k="user agent" v={t.actor.user_agent && visible(t.actor.user_agent)} />
            <Row k="actor guid" v={<code>{t.actor.guid}</code>} />
          </dl>
        </Answer>
        <Answer title="What command">
          <dl>
            <Row
              k="command"
              v={
                hidden ? (
                  <span class="muted">{HIDDEN}</span>
                ) : (
                  <code class="command" data-testid="command">
                    {visible(t.command)}
                  </code>
                )
              }
            />
            <Row
              k="fingerprint"
              v={
                <code class="fingerprint" data-testid="fingerprint">
                  {t.command_fingerprint}
                </code>
              }
            />
            <Row k="droplet" v={t.task.droplet_guid && <code>{t.task.droplet_guid}</code>} />
          </dl>
        </Answer>
        <Answer title="Where">
          <dl>
            <Row k="app" v={visible(t.target.app.name)} />
            <Row k="space" v={visible(t.target.space.name)} />
            <Row k="org" v={visible(t.target.organization.name)} />
            <Row
              k="memory / disk"
              v={`${String(t.resources.requested.memory_in_mb)} MB / ${String(t.resources.requested.disk_in_mb)} MB`}
            />
            <Row
              k="isolation"
              v={<Isolation text={String(t.resources.limits.isolation ?? '–')} />}
            />
          </dl>
        </Answer>
        <Answer title="What it printed">
          <dl>
            <Row
              k="lines"
              v={
                sum
                  ? `${sum.out_lines ?? 0} stdout + ${sum.err_lines ?? 0} stderr`
                  : `${t.output.total_lines} so far`
              }
            />
            <Row k="bytes" v={sum?.bytes?.toLocaleString('en-US')} />
            <Row k="sha256" v={sum?.sha256 && <code class="hash">{sum.sha256}</code>} />
            <Row k="truncated" v={t.output.truncated || sum?.truncated ? 'yes' : 'no'} />
          </dl>
        </Answer>
        <Answer title="How and when it ended">
          <dl>
            <Row k="state" v={<StateBadge state={t.task.state} />} />
            <Row k="failure reason" v={t.task.failure_reason && visible(t.task.failure_reason)} />
            <Row
              k="exit status"
              v={t.task.exit_status === null ? null : String(t.task.exit_status)}
            />
            <Row k="created" v={when(t.timing.created_at)} />
            <Row k="started" v={when(t.timing.started_at)} />
            <Row k="finished" v={when(t.timing.finished_at)} />
            <Row k="duration" v={duration(t.timing.duration_ms)} />
          </dl>
        </Answer>
      </div>
      <IntegrityPanel trail={t} version={live ? 0 : version} />
      {viewer}
      <section class="card">
        <h2>Audit events</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Type</th>
                <th>Time</th>
                <th>Actor</th>
                <th>Event</th>
              </tr>
            </thead>
            <tbody>
              {t.events.map((e) => (
                <tr key={e.guid}>
                  <td data-label="#">{e.seq}</td>
                  <td data-label="Type">{e.type}</td>
                  <td data-label="Time">{when(e.created_at)}</td>
                  <td data-label="Actor">{visible(e.actor.name ?? e.actor.guid)}</td>
                  <td data-label="Event">
                    <details>
                      <summary>JSON</summary>
                      <pre class="json">{JSON.stringify(e, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  )
}

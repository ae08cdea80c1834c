import { age, count, visible } from '../format.ts'
import { href } from '../router.ts'
import { api } from '../session.ts'
import { ErrorBox, useLoad } from '../ui.tsx'

interface Overview {
  since: string
  days: number
  task_runs_per_day: { date: string; state: string; count: number }[]
  failures_by_app: { app_guid: string; app_name: string; failed: number }[]
  busiest_actors: { guid: string; name: string; tasks: number }[]
  ledger: {
    leaves: number
    checkpoint: { size: number; signed_at: string; age_seconds: number } | null
  }
}

const STATES = ['SUCCEEDED', 'FAILED', 'RUNNING', 'PENDING', 'CANCELING']

function PerDay(props: { o: Overview }) {
  const { o } = props
  const start = Date.parse(o.since)
  const days = Array.from({ length: o.days }, (_, i) =>
    new Date(start + i * 86_400_000).toISOString().slice(0, 10),
  )
  const by = new Map<string, Map<string, number>>()
  for (const r of o.task_runs_per_day) {
    const m = by.get(r.date) ?? new Map<string, number>()
    m.set(r.state, r.count)
    by.set(r.date, m)
  }
  const max = Math.max(
    1,
    ...days.map((d) => [...(by.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0)),
  )
  const W = 64
  const H = 160
  return (
    <figure class="chart card">
      <figcaption>Task runs per day, by state (last {o.days} days)</figcaption>
      <svg
        viewBox={`0 0 ${days.length * W + 40} ${H + 40}`}
        role="img"
        aria-label="task runs per day by state"
      >
        <text x="0" y="12" class="axis">
          {max}
        </text>
        <line x1="30" y1={H + 4} x2={days.length * W + 36} y2={H + 4} class="axis-line" />
        {days.map((d, i) => {
          let y = H + 4
          return (
            <g key={d}>
              {STATES.map((s) => {
                const n = by.get(d)?.get(s) ?? 0
                if (!n) return null
                const h = (n / max) * H
                y -= h
                return (
                  <rect
                    x={34 + i * W}
                    y={y}
                    width={W - 6}
                    height={h}
                    class={`bar state-${s.toLowerCase()}`}
                  >
                    <title>{`${d} ${s}: ${n}`}</title>
                  </rect>
                )
              })}
              {
                <text x={34 + i * W} y={H + 20} class={i % 2 ? 'axis odd' : 'axis'}>
                  {d.slice(5)}
                </text>
              }
            </g>
          )
        })}
      </svg>
      <p class="legend">
        {STATES.map((s) => (
          <span class={`key state-${s.toLowerCase()}`}>{s}</span>
        ))}
      </p>
    </figure>
  )
}

function Bars(props: { title: string; rows: { label: string; n: number; link: string }[] }) {
  const max = Math.max(1, ...props.rows.map((r) => r.n))
  return (
    <figure class="chart card">
      <figcaption>{props.title}</figcaption>
      {props.rows.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="hbars">
          {props.rows.map((r) => (
            <li>
              <a href={r.link}>{visible(r.label)}</a>
              <span class="hbar" style={{ width: `${(r.n / max) * 100}%` }} />
              <span class="n">{count(r.n)}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  )
}

export function OverviewPage() {
  const o = useLoad('overview', () => api<Overview>('/ledger/v1/overview?days=14'))
  if (!o.data) return o.error ? <ErrorBox error={o.error} /> : <p class="muted">Loading…</p>
  const d = o.data
  const total = d.task_runs_per_day.reduce((a, r) => a + r.count, 0)
  return (
    <section class="overview">
      <h1>Overview</h1>
      <div class="stats">
        <div class="stat card">
          <span class="n" data-testid="runs-total">
            {count(total)}
          </span>
          task runs in {d.days} days
        </div>
        <div class="stat card">
          <span class="n" data-testid="ledger-size">
            {count(d.ledger.leaves)}
          </span>
          ledger log leaves
        </div>
        <div class="stat card">
          <span class="n">{d.ledger.checkpoint ? age(d.ledger.checkpoint.age_seconds) : '–'}</span>
          {d.ledger.checkpoint
            ? `since the checkpoint of size ${count(d.ledger.checkpoint.size)}`
            : 'no checkpoint yet'}
        </div>
      </div>
      <PerDay o={d} />
      <div class="two">
        <Bars
          title="Failures by app"
          rows={d.failures_by_app.map((r) => ({
            label: r.app_name,
            n: r.failed,
            link: href('runs', { app: r.app_name, state: 'FAILED' }),
          }))}
        />
        <Bars
          title="Busiest actors"
          rows={d.busiest_actors.map((r) => ({
            label: r.name,
            n: r.tasks,
            link: href('runs', { actor: r.name }),
          }))}
        />
      </div>
    </section>
  )
}

// The task output viewer: streams `GET /v3/tasks/:guid/output?format=ndjson&follow=true` (the
// server ends it at once for a finished task, and when a running one ends) into flat arrays and renders only the rows in view, so a million lines stay fast.
// Lines are text nodes; ANSI colours become classes (ansi.ts).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { parseAnsi, stripAnsi } from './ansi.ts'
import { authedFetch } from './session.ts'
import { download } from './ui.tsx'

const ROW = 20
const OVERSCAN = 30

class Lines {
  texts: string[] = []
  /** Per line: bit 1 = stderr, bit 2 = written by the cell (container lifecycle), not the task. */
  kind = new Uint8Array(1024)
  errIndex: number[] = []
  push(text: string, isErr: boolean, isCell: boolean): void {
    const i = this.texts.length
    if (i >= this.kind.length) {
      const bigger = new Uint8Array(this.kind.length * 2)
      bigger.set(this.kind)
      this.kind = bigger
    }
    this.texts.push(text)
    this.kind[i] = (isErr ? 1 : 0) | (isCell ? 2 : 0)
    if (isErr) this.errIndex.push(i)
  }
}

type Status = 'loading' | 'complete' | 'error'

function useOutput(guid: string) {
  const lines = useRef(new Lines())
  const [count, setCount] = useState(0)
  const [status, setStatus] = useState<Status>('loading')
  const [error, setError] = useState<string>()
  // Before the first paint, like useLoad: the stream starts with the record request.
  useLayoutEffect(() => {
    const ctrl = new AbortController()
    lines.current = new Lines()
    let frame = 0
    const tick = () => {
      if (!frame)
        frame = requestAnimationFrame(() => ((frame = 0), setCount(lines.current.texts.length)))
    }
    ;(async () => {
      const res = await authedFetch(
        `/v3/tasks/${encodeURIComponent(guid)}/output?format=ndjson&follow=true`,
        { signal: ctrl.signal },
      )
      if (!res.ok || !res.body) throw new Error(`output: HTTP ${res.status}`)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let rest = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const parts = (rest + value).split('\n')
        rest = parts.pop() ?? ''
        for (const p of parts) {
          if (!p) continue
          const rec = JSON.parse(p) as { line?: string; type?: string; source_type?: string }
          if (typeof rec.line === 'string')
            lines.current.push(rec.line, rec.type === 'ERR', rec.source_type === 'CELL')
        }
        tick()
      }
      cancelAnimationFrame(frame)
      setCount(lines.current.texts.length)
      setStatus('complete')
    })().catch((err: Error) => {
      if (ctrl.signal.aborted) return
      setError(err.message)
      setStatus('error')
    })
    return () => ctrl.abort()
  }, [guid])
  return { lines: lines.current, count, status, error }
}

function Line(props: { text: string; n: number; kind: number; match: boolean }) {
  const err = (props.kind & 1) === 1
  const cell = (props.kind & 2) === 2
  return (
    <div
      class={`line${err ? ' err' : ''}${cell ? ' cell' : ''}${props.match ? ' match' : ''}`}
      style={{ top: `${props.n * ROW}px` }}
      data-line={props.n + 1}
    >
      <span class="ln">{props.n + 1}</span>
      <span class="src">{cell ? 'CELL' : err ? 'ERR' : 'OUT'}</span>
      <span class="text">
        {parseAnsi(props.text).map((s) => (s.cls ? <span class={s.cls}>{s.text}</span> : s.text))}
      </span>
    </div>
  )
}

/** `live`: the task is still running (undefined until its record arrived). */
export function OutputViewer(props: {
  guid: string
  live: boolean | undefined
  onDone?: () => void
}) {
  const { lines, count, status, error } = useOutput(props.guid)
  const following = props.live === true && status === 'loading'
  const box = useRef<HTMLDivElement>(null)
  const [top, setTop] = useState(0)
  const [height, setHeight] = useState(600)
  const [stick, setStick] = useState(false)
  const [term, setTerm] = useState('')
  const [current, setCurrent] = useState(-1)
  const matches = useMemo(() => {
    if (!term) return []
    const t = term.toLowerCase()
    const out: number[] = []
    for (let i = 0; i < count; i++)
      if (stripAnsi(lines.texts[i]!).toLowerCase().includes(t)) out.push(i)
    return out
  }, [term, count, lines])

  useEffect(() => {
    if (status === 'complete') props.onDone?.()
  }, [status])
  // A running task's view follows its newest lines until the user scrolls away.
  useEffect(() => {
    if (props.live) setStick(true)
  }, [props.live])
  useEffect(() => {
    const el = box.current
    if (!el) return
    const measure = () => setHeight(el.clientHeight)
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  useEffect(() => {
    if (stick && box.current) box.current.scrollTop = box.current.scrollHeight
  }, [count, stick])

  const goTo = (i: number) => {
    setCurrent(i)
    setStick(false)
    if (box.current) box.current.scrollTop = Math.max(0, i * ROW - height / 3)
  }
  const nextOf = (xs: readonly number[], dir: 1 | -1) => {
    if (!xs.length) return
    const from = current >= 0 ? current : Math.floor(top / ROW)
    const found = dir === 1 ? xs.find((x) => x > from) : [...xs].reverse().find((x) => x < from)
    goTo(found ?? (dir === 1 ? xs[0]! : xs[xs.length - 1]!))
  }
  const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN)
  const last = Math.min(count, Math.ceil((top + height) / ROW) + OVERSCAN)
  const rows = []
  for (let i = first; i < last; i++)
    rows.push(
      <Line key={i} n={i} text={lines.texts[i]!} kind={lines.kind[i]!} match={i === current} />,
    )

  async function downloadAll() {
    const res = await authedFetch(`/v3/tasks/${encodeURIComponent(props.guid)}/output`)
    download(`task-${props.guid}.log`, 'text/plain', await res.blob())
  }
  const at = matches.indexOf(current)
  return (
    <section class="output card" aria-label="output">
      <div class="output-bar">
        <h2>Output</h2>
        <span class="muted" data-testid="output-status">
          {count.toLocaleString('en-US')} lines · {lines.errIndex.length.toLocaleString('en-US')}{' '}
          stderr · {following ? 'following live' : status === 'loading' ? 'loading…' : status}
        </span>
        <form
          class="search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault()
            nextOf(matches, 1)
          }}
        >
          <input
            aria-label="search the output"
            placeholder="Search output"
            value={term}
            onInput={(e) => (setTerm(e.currentTarget.value), setCurrent(-1))}
          />
          <button
            type="button"
            onClick={() => nextOf(matches, -1)}
            disabled={!matches.length}
            aria-label="previous match"
          >
            ↑
          </button>
          <button type="submit" disabled={!matches.length} aria-label="next match">
            ↓
          </button>
          <span class="muted small" data-testid="matches">
            {term ? `${at >= 0 ? at + 1 : '–'} / ${matches.length}` : ''}
          </span>
        </form>
        <button
          type="button"
          onClick={() => nextOf(lines.errIndex, 1)}
          disabled={!lines.errIndex.length}
        >
          Next stderr line
        </button>
        <label class="inline">
          <input
            type="checkbox"
            checked={stick}
            onChange={(e) => setStick(e.currentTarget.checked)}
          />{' '}
          Follow
        </label>
        <button type="button" onClick={downloadAll}>
          Download
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      <div
        class="viewer"
        ref={box}
        tabIndex={0}
        aria-label="task output lines"
        onScroll={(e) => {
          const el = e.currentTarget
          setTop(el.scrollTop)
          if (following) setStick(el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2)
        }}
      >
        <div class="spacer" style={{ height: `${count * ROW}px` }}>
          {rows}
        </div>
      </div>
    </section>
  )
}

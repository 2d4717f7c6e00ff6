// What the demo saw: every invocation with what it cost, and the faults in between. Printed as it
// happens, and kept for the summary and the HTML report.

const ESC = '\u001b['
const paint = (enabled, code, text) => (enabled ? `${ESC}${code}m${text}${ESC}0m` : text)

/** Remote calls by service, from the local endpoint's record of what reached it. */
export function countCalls(calls) {
  return {
    ssm: calls.filter((call) => call.service === 'ssm').length,
    sm: calls.filter((call) => call.service === 'secretsmanager').length,
  }
}

/** The leak guard's findings in an invocation's logs (its JSON lines with `findings`). */
export function findingsIn(logs) {
  return logs
    .filter((line) => line.startsWith('{') && line.includes('"findings"'))
    .flatMap((line) => {
      try {
        return JSON.parse(line).findings ?? []
      } catch {
        return []
      }
    })
}

export class Timeline {
  /** @param {{ write: (line: string) => void, color: boolean }} output */
  constructor(output) {
    this.output = output
    this.startedAt = performance.now()
    this.rows = []
    this.marks = []
    this.phases = []
  }

  /** Time 0 of the timeline: the first invocation, once servers are up and bundles built. */
  start() {
    this.startedAt = performance.now()
  }

  now() {
    return (performance.now() - this.startedAt) / 1_000
  }

  phase(title) {
    this.phases.push({ title, at: this.now() })
    this.output.write('')
    this.output.write(
      paint(this.output.color, '1', `── ${title} ${'─'.repeat(Math.max(0, 86 - title.length))}`),
    )
  }

  /** A fault or an operator's action, drawn as a marker in the report. */
  mark(label) {
    this.marks.push({ label, at: this.now() })
    this.output.write(`  ${paint(this.output.color, '35', `⚡ ${label}`)}`)
  }

  note(text) {
    this.output.write(`  ${paint(this.output.color, '2', text)}`)
  }

  header() {
    this.output.write(
      paint(
        this.output.color,
        '2',
        cells({
          time: 'time',
          fn: 'function',
          env: 'env',
          start: 'start',
          init: 'init',
          run: 'run ms',
          request: 'request',
          status: 'status',
          ssm: 'SSM',
          sm: 'SM',
          conns: 'conns',
          leaks: 'leaks',
        }),
      ),
    )
  }

  /**
   * @param {object} row { fn, invocation, request, startedAt (s), endedAt? (s, default now), calls?: { ssm, sm },
   *   connections?, findings (those about this invocation) }
   */
  add(row) {
    const { invocation } = row
    const status = invocation.ok
      ? String(invocation.result?.statusCode ?? 'ok')
      : (invocation.error?.name ?? 'error')
    const entry = { ...row, status, endedAt: row.endedAt ?? this.now() }
    this.rows.push(entry)
    const c = this.output.color
    const line = cells({
      time: `${row.startedAt.toFixed(2)}s`,
      fn: row.fn,
      env: invocation.environment,
      start: invocation.coldStart ? 'cold' : 'warm',
      init: invocation.coldStart ? `${Math.round(invocation.initDurationMs ?? 0)}ms` : '',
      run: invocation.durationMs.toFixed(1),
      request: row.request,
      status: `→ ${status}`,
      ssm: row.calls?.ssm ?? '·',
      sm: row.calls?.sm ?? '·',
      conns: row.connections ?? '·',
      leaks: row.findings.length,
    })
      .replace(/ (cold|warm) /, (match, kind) => paint(c, kind === 'cold' ? '33' : '32', match))
      .replace(/→ \S+/, (match) => (invocation.ok ? match : paint(c, '31', match)))
    this.output.write(row.findings.length > 0 ? line.replace(/\d+$/, (n) => paint(c, '31', n)) : line)
    return entry
  }

  /** A burst's remote calls and connections, which belong to the burst as a whole. */
  burstTotal(calls, connections) {
    const line = cells({ request: 'burst total', ssm: calls.ssm, sm: calls.sm, conns: connections })
    this.output.write(paint(this.output.color, '2', line))
  }
}

const COLUMNS = [
  ['time', 8, 'end'],
  ['fn', 8],
  ['env', 6],
  ['start', 5],
  ['init', 6, 'end'],
  ['run', 7, 'end'],
  ['request', 13],
  ['status', 8],
  ['ssm', 4, 'end'],
  ['sm', 3, 'end'],
  ['conns', 6, 'end'],
  ['leaks', 6, 'end'],
]

function cells(values) {
  return `  ${COLUMNS.map(([key, width, align]) => {
    const text = String(values[key] ?? '')
    return align === 'end' ? text.padStart(width) : text.padEnd(width)
  }).join(' ')}`
}

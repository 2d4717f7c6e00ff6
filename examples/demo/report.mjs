// A self-contained HTML report: the summary, a timeline chart (inline SVG, one lane per execution
// environment, cold against warm, faults marked) and every invocation. No external asset.

const COLORS = { cold: '#e0902f', warm: '#2f9e5b', failed: '#d63b3b', fault: '#8b3fc7', lane: '#eef0f3' }
const html = (value) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )

export function renderReport(summary, timeline) {
  const stat = (label, value, good) =>
    `<div class="stat ${good === undefined ? '' : good ? 'good' : 'bad'}"><b>${html(value)}</b><span>${html(label)}</span></div>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>warmstart demo report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#1d232b;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}p.sub{color:#5b6570;margin:0 0 16px}
.stats{display:flex;flex-wrap:wrap;gap:10px}.stat{border:1px solid #d7dce1;border-radius:8px;padding:8px 14px;min-width:120px}
.stat b{display:block;font-size:22px}.stat span{color:#5b6570;font-size:12px}.stat.good{border-color:#2f9e5b}.stat.bad{border-color:#d63b3b}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceff2}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.phase td{background:#f5f6f8;font-weight:600}
.cold{color:${COLORS.cold};font-weight:600}.warm{color:${COLORS.warm}}.failed{color:${COLORS.failed};font-weight:600}
ol.faults{color:#333;padding-left:22px}ol.faults li::marker{color:${COLORS.fault};font-weight:700}
svg text{font-family:system-ui,sans-serif}
</style></head><body>
<h1>warmstart demo</h1>
<p class="sub">The orders API (Middy + every warmstart middleware, PostgreSQL, SSM, Secrets Manager) and a leaky handler,
bundled with esbuild and run under simulateLambda: real processes frozen between invocations, a real PostgreSQL,
the real AWS SDK against a local endpoint. ${html(summary.wallSeconds.toFixed(1))} s of wall time.</p>
<div class="stats">
${stat('invocations', `${summary.invocations}`)}
${stat('cold starts', summary.coldStarts)}
${stat('failed invocations (goal 0)', summary.failures, summary.failures === 0)}
${stat('SSM calls', summary.ssmCalls)}
${stat('Secrets Manager calls', summary.secretsManagerCalls)}
${stat('connections opened', summary.connectionsOpened)}
${stat('leaks in orders-api (goal none)', summary.leaks.clean, summary.leaks.clean === 0)}
${stat('leak places in leaky-handler', summary.leaks.leaky, summary.leaks.leaky > 0)}
</div>
<h2>Timeline</h2>
${chart(timeline)}
<ol class="faults">${timeline.marks.map((mark) => `<li>${html(mark.label)} <small>(${mark.at.toFixed(2)} s)</small></li>`).join('')}</ol>
<h2>Invocations</h2>
<table><thead><tr><th class="n">time</th><th>function</th><th>env</th><th>start</th><th class="n">init ms</th><th class="n">run ms</th>
<th>request</th><th>status</th><th class="n">SSM</th><th class="n">SM</th><th class="n">conns</th><th class="n">leaks</th></tr></thead>
<tbody>${tableRows(timeline)}</tbody></table>
<p class="sub">SSM and Secrets Manager calls are the requests that reached the local endpoint (throttled ones included);
in a burst they belong to the burst as a whole and are shown on its first line. Connections: the function's
sessions open on the server after the invocation.</p>
</body></html>
`
}

function lanesOf(rows) {
  const lanes = []
  for (const row of rows) {
    const key = `${row.fn} ${row.invocation.environment}`
    if (!lanes.includes(key)) lanes.push(key)
  }
  return lanes
}

function chart(timeline) {
  const rows = timeline.rows
  const lanes = lanesOf(rows)
  const width = 1060
  const left = 120
  const top = 34
  const laneHeight = 30
  const height = top + lanes.length * laneHeight + 34
  const end = Math.max(...rows.map((row) => row.endedAt), ...timeline.marks.map((mark) => mark.at)) * 1.02
  const x = (seconds) => left + (seconds / end) * (width - left - 10)
  const parts = []
  for (const [index, phase] of timeline.phases.entries()) {
    const next = timeline.phases[index + 1]?.at ?? end
    if (index % 2 === 0) {
      parts.push(
        `<rect x="${x(phase.at)}" y="${top - 16}" width="${x(next) - x(phase.at)}" height="${height - top - 2}" fill="#fafbfc"/>`,
      )
    }
    parts.push(
      `<text x="${x(phase.at) + 3}" y="${top - 4}" font-size="11" fill="#5b6570">${index + 1}</text>`,
    )
  }
  for (const [index, lane] of lanes.entries()) {
    const y = top + index * laneHeight
    const mine = rows.filter((row) => `${row.fn} ${row.invocation.environment}` === lane)
    const from = x(mine[0].startedAt)
    const to = x(Math.max(...mine.map((row) => row.endedAt)))
    parts.push(`<text x="${left - 8}" y="${y + 19}" font-size="12" text-anchor="end">${html(lane)}</text>`)
    parts.push(
      `<rect x="${from}" y="${y + 9}" width="${Math.max(2, to - from)}" height="12" rx="3" fill="${COLORS.lane}"><title>frozen between invocations</title></rect>`,
    )
    for (const row of mine) {
      const { invocation } = row
      const seconds = ((invocation.initDurationMs ?? 0) + invocation.durationMs) / 1_000
      const kind = !invocation.ok ? 'failed' : invocation.coldStart ? 'cold' : 'warm'
      const title = `${lane} · ${kind} · ${row.request} → ${row.status} · ${invocation.durationMs.toFixed(1)} ms${
        invocation.coldStart ? ` + init ${Math.round(invocation.initDurationMs ?? 0)} ms` : ''
      }${row.findings.length ? ` · ${row.findings.length} findings` : ''}`
      parts.push(
        `<rect x="${x(row.startedAt)}" y="${y + 5}" width="${Math.max(4, x(row.startedAt + seconds) - x(row.startedAt))}" height="20" rx="3" fill="${COLORS[kind]}"><title>${html(title)}</title></rect>`,
      )
      if (row.findings.length > 0)
        parts.push(`<circle cx="${x(row.startedAt) + 2}" cy="${y + 4}" r="4" fill="${COLORS.failed}"/>`)
    }
  }
  for (const [index, mark] of timeline.marks.entries()) {
    const mx = x(mark.at)
    parts.push(
      `<line x1="${mx}" y1="${top - 14}" x2="${mx}" y2="${height - 26}" stroke="${COLORS.fault}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    )
    parts.push(
      `<circle cx="${mx}" cy="${height - 20}" r="8" fill="${COLORS.fault}"/><text x="${mx}" y="${height - 16}" font-size="10" fill="#fff" text-anchor="middle">${index + 1}</text>`,
    )
  }
  const axis = []
  const step = end > 30 ? 5 : end > 12 ? 2 : 1
  for (let t = 0; t <= end; t += step) {
    axis.push(
      `<line x1="${x(t)}" y1="${height - 30}" x2="${x(t)}" y2="${height - 27}" stroke="#889"/><text x="${x(t)}" y="${height - 2}" font-size="10" fill="#5b6570" text-anchor="middle">${t}s</text>`,
    )
  }
  const legend = [
    ['cold start (init + run)', COLORS.cold],
    ['warm', COLORS.warm],
    ['failed', COLORS.failed],
    ['frozen', COLORS.lane],
    ['fault', COLORS.fault],
  ]
    .map(
      ([label, fill], i) =>
        `<rect x="${left + i * 170}" y="2" width="12" height="12" rx="2" fill="${fill}"/><text x="${left + i * 170 + 17}" y="12" font-size="12">${label}</text>`,
    )
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 ${width} ${height}" role="img" aria-label="Invocations over time, one lane per execution environment">${legend}<line x1="${left}" y1="${height - 30}" x2="${width - 10}" y2="${height - 30}" stroke="#889"/>${parts.join('')}${axis.join('')}</svg>`
}

function tableRows(timeline) {
  const lines = []
  let phase = 0
  for (const row of timeline.rows) {
    while (phase < timeline.phases.length && timeline.phases[phase].at <= row.startedAt) {
      lines.push(`<tr class="phase"><td colspan="12">${html(timeline.phases[phase].title)}</td></tr>`)
      phase += 1
    }
    const { invocation } = row
    const kind = invocation.coldStart ? 'cold' : 'warm'
    const cell = (value) => `<td class="n">${html(value ?? '·')}</td>`
    lines.push(
      `<tr><td class="n">${row.startedAt.toFixed(2)}s</td><td>${html(row.fn)}</td><td>${html(invocation.environment)}</td>` +
        `<td class="${kind}">${kind}</td>${cell(invocation.coldStart ? Math.round(invocation.initDurationMs ?? 0) : '')}` +
        `${cell(invocation.durationMs.toFixed(1))}<td>${html(row.request)}</td>` +
        `<td class="${invocation.ok ? '' : 'failed'}">${html(row.status)}</td>${cell(row.calls?.ssm)}${cell(row.calls?.sm)}` +
        `${cell(row.connections)}${cell(row.findings.length)}</tr>`,
    )
  }
  return lines.join('\n')
}

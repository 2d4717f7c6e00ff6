import { describe, expect, it } from 'vitest'
import { runDemo } from './demo.mjs'
import { renderReport } from './report.mjs'

describe('the demo (npm run demo)', () => {
  it('holds its goals: no failed invocation, no leak in orders-api, leaks found in the leaky handler', async () => {
    const lines: string[] = []
    const { summary, timeline } = await runDemo({ write: (line) => lines.push(line) })
    expect(summary).toMatchObject({
      goalsMet: true,
      failures: 0,
      invocations: 25,
      coldStarts: 5,
      leaks: { clean: 0 },
      // Cold starts (3, then 1 after the reap) and the rotation (one refresh in each of 3 environments).
      secretsManagerCalls: 7,
    })
    expect(summary.leaks.leaky).toBeGreaterThanOrEqual(3)
    // One fetch per cold environment, one per expiry, and the two throttled requests.
    expect(summary.ssmCalls).toBeGreaterThanOrEqual(4 + 2)
    // 3 cold + 3 after the kill + 3 after the rotation + 1 new environment.
    expect(summary.connectionsOpened).toBe(10)
    const text = lines.join('\n')
    expect(text).toContain('database terminated 3 connections of frozen environments')
    expect(text).toContain('connections left open: 0')
    expect(text).toMatch(/handler\.mjs: profiles → /)
    expect(text).toMatch(/handler\.mjs: lastToken → /)
    // Every finding sits on the row of the invocation it is about, though the deep ones were logged
    // by the next invocation: the first customer's row has both checks' findings.
    const leaky = timeline.rows.filter((row) => row.fn === 'leaky')
    for (const row of timeline.rows)
      for (const finding of row.findings) expect(finding.invocation).toBe(row.invocation.requestId)
    expect(new Set(leaky[0]?.findings.map((finding) => finding.check))).toEqual(new Set(['fast', 'deep']))
    expect(leaky[0]?.invocation.logs.join('\n')).not.toContain('"check":"deep"')
    expect(text).toContain('its deep check waits for the next invocation of this environment (none here)')
    expect(timeline.marks).toHaveLength(6)

    const html = renderReport(summary, timeline)
    expect(html).toContain('<svg')
    expect(html).not.toMatch(/<(script|link)\b|src="http/)
    expect(html.match(/<rect [^>]*fill="#e0902f"/g)).toHaveLength(summary.coldStarts + 1)
  })
})

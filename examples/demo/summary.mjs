// The demo's closing lines: what happened in numbers, and whether its goals held.

/** @param {ReturnType<typeof import('./demo.mjs').runDemo> extends Promise<infer R> ? R['summary'] : never} summary */
export function printSummary(summary, write) {
  const check = (ok) => (ok ? '✓' : '✗')
  write('')
  write('── Summary ──────────────────────────────────────────────────────────────────────────────')
  write(`  invocations             ${summary.invocations} (${summary.coldStarts} cold)`)
  write(`  failed invocations      ${summary.failures}   ${check(summary.failures === 0)} goal: 0`)
  write(`  SSM calls               ${summary.ssmCalls} (throttled ones included)`)
  write(`  Secrets Manager calls   ${summary.secretsManagerCalls}`)
  write(`  connections opened      ${summary.connectionsOpened}`)
  write(`  leaks, orders-api       ${summary.leaks.clean}   ${check(summary.leaks.clean === 0)} goal: none`)
  write(
    `  leaks, leaky-handler    ${summary.leaks.leaky} places   ${check(summary.leaks.leaky > 0)} goal: found`,
  )
  write(`  wall time               ${summary.wallSeconds.toFixed(1)} s; everything stopped`)
  write(summary.goalsMet ? '  All goals held.' : '  A goal did not hold: see the timeline above.')
}

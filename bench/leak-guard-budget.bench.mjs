// The fast check's time budget against a global Map of 500,000 entries that gains one per invocation
// (default budget: 50,000 nodes, 20 ms): the duration of each check as leak.check reports it.
// Run: node bench/leak-guard-budget.bench.mjs (after node_modules/.bin/pnpm build).

import { onEvent } from '@warmstart/core'
import { leakGuard } from '@warmstart/leak-guard'

const d = []
onEvent((e) => e.type === 'leak.check' && d.push(e))
const big = new Map()
for (let i = 0; i < 500_000; i++) big.set(`sku-${i}`, i)
globalThis.big = big
const guard = leakGuard({ mode: 'report', onFinding: () => {} })
for (let i = 0; i < 60; i++) {
  const u = `user-${i}-x1y2z3`
  await guard.wrap(() => big.set(u, i))({ body: JSON.stringify({ userId: u }) }, { awsRequestId: `r${i}` })
}
const ms = d.map((e) => e.durationMs).sort((a, b) => a - b)
const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(2)
console.log(
  'checks',
  ms.length,
  'median',
  q(0.5),
  'p99',
  q(0.99),
  'max',
  ms.at(-1).toFixed(2),
  'exhausted',
  d.filter((e) => e.exhausted).length,
  'nodes median',
  d.map((e) => e.nodes).sort((a, b) => a - b)[30],
)

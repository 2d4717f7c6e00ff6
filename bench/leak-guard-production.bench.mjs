// The production check's cost as a user feels it: warm invocations of a Middy handler whose module
// holds realistic state (a catalogue Map and a boundedLru of 10,000 entries, an SDK client, a pg
// connection doing one query per invocation), with no guard, with the guard not sampling, and with
// the guard checking every invocation (its fast check reads the handler's module scope through the
// inspector, found from _HANDLER as under Lambda). Interleaved rounds; median and p99 per
// invocation, the guard's own figures from its leak.check events, and the mean cost per
// invocation at a few sample rates. Run: node bench/leak-guard-production.bench.mjs
import { randomUUID } from 'node:crypto'
import { dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { onEvent } from '@warmstart/core'
import { startPostgres } from '@warmstart/testing/postgres'
import { median } from './stats.mjs'

const ROUNDS = 15
const PER_ROUND = 200
const fixture = fileURLToPath(new URL('fixtures/production-handler.mjs', import.meta.url))

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function request(i) {
  const user = randomUUID().slice(0, 8)
  return {
    event: {
      version: '2.0',
      rawPath: '/price',
      headers: { authorization: `Bearer tok-${randomUUID()}` },
      requestContext: {
        requestId: randomUUID(),
        http: { method: 'POST', sourceIp: '198.51.100.7' },
        authorizer: { jwt: { claims: { sub: `user-${user}`, email: `p.${user}@example.org` } } },
      },
      body: JSON.stringify({ sku: `sku-${i % 10_000}`, userId: `user-${user}` }),
    },
    context: { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 10_000 },
  }
}

export async function run() {
  const server = await startPostgres()
  process.env.BENCH_PG_CONFIG = JSON.stringify(server.config)
  process.env.LAMBDA_TASK_ROOT = dirname(fixture)
  process.env._HANDLER = 'production-handler.checked'
  const handler = await import(pathToFileURL(fixture).href)
  const checks = []
  const stop = onEvent((event) => {
    if (event.type === 'leak.check' && event.check === 'fast') checks.push(event)
  })
  try {
    const kinds = { bare: handler.bare, unsampled: handler.unsampled, checked: handler.checked }
    const samples = { bare: [], unsampled: [], checked: [] }
    let n = 0
    const time = async (fn) => {
      const { event, context } = request(n++)
      const started = performance.now()
      const response = await fn(event, context)
      const ms = performance.now() - started
      if (response.statusCode !== 200) throw new Error('the handler failed')
      return ms
    }
    // Warm: the pg connection open, the guard's baseline taken, the module's functions learned.
    for (let i = 0; i < 300; i++) for (const fn of Object.values(kinds)) await time(fn)
    checks.length = 0
    for (let round = 0; round < ROUNDS; round++)
      for (const [name, fn] of Object.entries(kinds))
        for (let i = 0; i < PER_ROUND; i++) samples[name].push(await time(fn))
    if (handler.findings.length > 0)
      throw new Error(`findings on a clean handler: ${handler.findings[0].path}`)
    const moduleRead = checks.length > 0
    const stat = (name) => ({ median: median(samples[name]), p99: percentile(samples[name], 99) })
    const bare = stat('bare')
    const unsampled = stat('unsampled')
    const checked = stat('checked')
    const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length
    const checkMs = mean(samples.checked) - mean(samples.unsampled)
    const rows = [0.01, 0.05, 0.1].map(
      (rate) =>
        `| guard at sampleRate ${rate} (mean, from the two rows above) | ${(mean(samples.unsampled) + rate * checkMs).toFixed(3)} ms | — |`,
    )
    const nodes = median(checks.map((check) => check.nodes))
    const exhausted = checks.filter((check) => check.exhausted).length
    const guardMs = median(checks.map((check) => check.durationMs))
    const markdown = [
      `Warm invocations of a Middy handler (\`bench/fixtures/production-handler.mjs\`) whose module holds a catalogue \`Map\` and a \`boundedLru\` of 10,000 entries each, an \`SSMClient\` and a pg connection that runs one query per invocation (a real PostgreSQL over loopback). ${ROUNDS} interleaved rounds of ${PER_ROUND} invocations per row, after 300 warm-up invocations each; wall time per invocation. The guard finds the handler's module from \`_HANDLER\`, as under Lambda${moduleRead ? '' : ' (it did not: no check ran)'}, and reads it under its default budget (50,000 nodes / 20 ms); the handler keeps nothing of the requests, and no check reported anything.`,
      '',
      '| handler | median per invocation | p99 |',
      '| --- | ---: | ---: |',
      `| no guard | ${bare.median.toFixed(3)} ms | ${bare.p99.toFixed(3)} ms |`,
      `| leakGuardMiddleware, sampleRate 0 | ${unsampled.median.toFixed(3)} ms | ${unsampled.p99.toFixed(3)} ms |`,
      `| leakGuardMiddleware, sampleRate 1 (every invocation checked) | ${checked.median.toFixed(3)} ms | ${checked.p99.toFixed(3)} ms |`,
      ...rows,
      '',
      `The fast check itself (its \`leak.check\` events, ${checks.length} checks): median ${guardMs.toFixed(2)} ms, ${nodes} nodes, cut short by its budget in ${exhausted} (a check cut short reads on at the next one). A checked invocation costs ${(checked.median / bare.median).toFixed(2)}× one without the guard at the median.`,
      '',
      `Node ${process.version}. Reproduce: \`node bench/run.mjs leak-guard-production\` (after \`node_modules/.bin/pnpm build\`).`,
    ].join('\n')
    return { title: "Leak guard: the production check's cost on a realistic handler", markdown }
  } finally {
    stop()
    await handler.end()
    await server.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log((await run()).markdown)

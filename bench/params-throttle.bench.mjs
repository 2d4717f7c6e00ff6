// Invocation latency while SSM throttles, with a stale value allowed (staleIfError), before and
// after the deadline work (issue 11). One environment reads 20 SSM parameters through
// paramsMiddleware in a real @middy/core chain with the real SSMClient (its default retry policy:
// 3 attempts with its own backoff) against the local endpoint. Every value is cached first; then
// SSM throttles every request, and the environment is invoked every 5 simulated seconds for 5
// simulated minutes (TTL 1 minute, staleIfError 1 hour), so the values expire while SSM is down.
// Latency is wall time per invocation (the SDK's backoff sleeps in real time); calls are counted
// at the endpoint.
// A "before" row runs when BEFORE_PARAMS names the dist/index.js of a build of other code (the
// figures in docs/benchmarks.md: main before the deadline work); the row says which code it ran.
import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import * as after from '@warmstart/params'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { fakeClock, startLocalAws } from '@warmstart/testing'
import { median } from './stats.mjs'

const PARAMETERS = Array.from({ length: 20 }, (_, i) => `/bench/throttle/p${String(i).padStart(2, '0')}`)
const STEP = 5_000
const INVOCATIONS = 36
const BEFORE = process.env.BEFORE_PARAMS

async function contenders() {
  // [label, the package, how it takes an SDK client]: builds from before the SDK entries take it bare.
  const list = [['after (this branch)', after, fromSsmClient]]
  if (BEFORE !== undefined && existsSync(BEFORE)) {
    try {
      list.unshift([`before (${BEFORE})`, await import(pathToFileURL(BEFORE).href), (client) => client])
    } catch {
      // Not loadable here: only the after row is reported.
    }
  }
  return list
}

async function measure(aws, params, wrap) {
  const clock = fakeClock()
  const client = new SSMClient({ ...aws.clientConfig })
  const ssm = params.ssmParameters({ client: wrap(client), clock, ttl: '1m', jitter: 0, staleIfError: '1h' })
  const fetch = Object.fromEntries(PARAMETERS.map((name, i) => [`p${i}`, ssm.ref(name)]))
  const handler = middy(async () => 'ok').use(params.paramsMiddleware({ fetch }))
  let n = 0
  const context = () => ({
    awsRequestId: `throttle-${++n}`,
    functionName: 'throttle-bench',
    getRemainingTimeInMillis: () => 10_000,
  })
  await handler({}, context())
  aws.resetCalls()
  aws.injectFault({ service: 'ssm', kind: 'throttle', times: Number.POSITIVE_INFINITY })
  const latencies = []
  let failed = 0
  for (let i = 0; i < INVOCATIONS; i++) {
    clock.advance(STEP)
    const started = performance.now()
    try {
      await handler({}, context())
    } catch {
      failed++
    }
    latencies.push(performance.now() - started)
  }
  aws.clearFaults()
  client.destroy()
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    median: median(latencies),
    p95: sorted[Math.floor(sorted.length * 0.95)],
    max: sorted[sorted.length - 1],
    over500: latencies.filter((ms) => ms > 500).length,
    calls: aws.callCount({ service: 'ssm' }),
    failed,
    stale: ssm.stats().staleServed,
  }
}

export async function run() {
  const aws = await startLocalAws({
    parameters: Object.fromEntries(PARAMETERS.map((name, i) => [name, `value-${i}`])),
  })
  const rows = []
  try {
    for (const [label, params, wrap] of await contenders()) {
      rows.push({ label, ...(await measure(aws, params, wrap)) })
    }
  } finally {
    await aws.stop()
  }
  const lines = [
    `Workload: one environment, ${PARAMETERS.length} SSM parameters through paramsMiddleware in a Middy chain, the real SSMClient with its default retries (3 attempts). Every value is cached, then SSM throttles every request, and the environment is invoked every ${STEP / 1000} simulated seconds for ${(INVOCATIONS * STEP) / 60_000} simulated minutes (TTL 1 minute, staleIfError 1 hour, defaults otherwise). Wall time per invocation; calls counted at the local endpoint (throttled ones included).`,
    '',
    '| code | median (ms) | p95 (ms) | max (ms) | invocations > 500 ms | SSM calls | failed | reads served stale |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${row.median.toFixed(2)} | ${row.p95.toFixed(1)} | ${row.max.toFixed(1)} | ${row.over500} of ${INVOCATIONS} | ${row.calls} | ${row.failed} | ${row.stale} |`,
    ),
    '',
    'After: a refresh with a stale value in hand is given `staleAfter` (200 ms) and then the stale value is served; the key then backs off (1 s doubling to 1 min, jittered), and reads in between are served without a call.',
    '',
    'Reproduce: `node_modules/.bin/pnpm build && node bench/run.mjs params-throttle` (set `BEFORE_PARAMS` to the `dist/index.js` of a build of the old code for the before row).',
  ]
  return {
    title: 'Parameters: invocation latency under SSM throttling with staleIfError',
    markdown: lines.join('\n'),
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { title, markdown } = await run()
  console.log(`## ${title}\n\n${markdown}`)
}

// Fleet simulation, no network: 1,000 Lambda environments started within one minute, each
// reading 20 SSM parameters through @warmstart/params' ttlCache (TTL 60 s) on every invocation,
// one invocation per environment every second (each at its own phase). A fake clock drives every
// cache; the loader records a request per GetParameters batch (one per 10 names, as the provider
// sends them). We count requests per one-second bucket over 10 simulated minutes and compare the
// peak with SSM's default throughput of 40 transactions per second.
import { ttlCache } from '@warmstart/params'

const ENVIRONMENTS = 1000
const START_WINDOW_MS = 60_000
const NAMES = 20
const BATCH = 10
const TTL_MS = 60_000
const INVOKE_EVERY_MS = 1_000
const DURATION_MS = 10 * 60_000
const SSM_TPS = 40

/** A seeded PRNG (mulberry32): the same fleet every run. */
function prng(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Start times: `uniform` over the minute, or `burst` (90% in the first 2 seconds, as after a deploy). */
function startTimes(kind, random) {
  return Array.from({ length: ENVIRONMENTS }, () =>
    kind === 'uniform' || random() > 0.9 ? random() * START_WINDOW_MS : random() * 2_000,
  )
}

async function simulate({ kind, jitter }) {
  const random = prng(kind === 'uniform' ? 1 : 2)
  let now = 0
  const clock = { now: () => now }
  const buckets = new Map()
  const names = Array.from({ length: NAMES }, (_, i) => `/app/p${i}`)
  const environments = startTimes(kind, random).map((start) => {
    const cache = ttlCache({ name: 'fleet', ttl: TTL_MS, jitter, clock, random })
    // The loader counts one request per batch of 10 names read in the same tick, as the
    // provider's coalescing does.
    let pendingInTick = 0
    const load = async (name) => {
      if (pendingInTick % BATCH === 0) {
        const second = Math.floor(now / 1000)
        buckets.set(second, (buckets.get(second) ?? 0) + 1)
      }
      pendingInTick++
      queueMicrotask(() => {
        pendingInTick = 0
      })
      return name
    }
    return { start, cache, load, next: start }
  })
  // Event loop of invocations in time order (environments invoke every second from their start).
  const queue = [...environments].sort((a, b) => a.next - b.next)
  let requests = 0
  while (queue.length > 0) {
    const env = queue.shift()
    if (env.next >= DURATION_MS) continue
    now = env.next
    await Promise.all(names.map((name) => env.cache.get(name, env.load)))
    env.next += INVOKE_EVERY_MS
    // Re-insert in order (binary search).
    let low = 0
    let high = queue.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (queue[middle].next < env.next) low = middle + 1
      else high = middle
    }
    queue.splice(low, 0, env)
  }
  for (const count of buckets.values()) requests += count
  const perSecond = (from, to) => {
    let peak = 0
    for (const [second, count] of buckets) if (second >= from && second < to) peak = Math.max(peak, count)
    return peak
  }
  const steady = [...buckets].filter(([second]) => second >= 120)
  const over = steady.filter(([, count]) => count > SSM_TPS).length
  return {
    requests,
    coldPeak: perSecond(0, 60),
    refreshPeak: perSecond(60, DURATION_MS / 1000),
    steadyPeak: perSecond(120, DURATION_MS / 1000),
    secondsOver: over,
  }
}

export async function run() {
  const rows = []
  for (const kind of ['uniform', 'burst']) {
    for (const jitter of [0, 0.1, 0.2]) rows.push({ kind, jitter, ...(await simulate({ kind, jitter })) })
  }
  const lines = [
    `${ENVIRONMENTS.toLocaleString('en')} environments, each reading ${NAMES} parameters (2 GetParameters per refresh) on one invocation per second, TTL ${TTL_MS / 1000} s, 10 simulated minutes, fake clock (no network). Start times: **uniform** over one minute, or **burst** (90% within the first 2 seconds, the rest over the minute, as after a deploy or a scale-out). Peaks are the busiest one-second bucket; SSM's default throughput is ${SSM_TPS} TPS.`,
    '',
    '| start | jitter | requests | peak req/s, first minute (cold fetches) | peak req/s, refreshes (after 60 s) | peak req/s, after 2 min | seconds over 40 TPS after 2 min |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.kind} | ${row.jitter === 0 ? 'none' : `±${row.jitter * 100}%`} | ${row.requests.toLocaleString('en')} | ${row.coldPeak} | ${row.refreshPeak} | ${row.steadyPeak} | ${row.secondsOver} |`,
    ),
    '',
    'Cold fetches are the same with or without jitter (every new environment must fetch); jitter acts on the refreshes: without it, environments started together refresh together every TTL for as long as they live. One jitter draw is shared by the values fetched in one tick, so jitter never splits a batch: the request count stays at the batching floor.',
    '',
    'Reproduce: `node_modules/.bin/pnpm build && node bench/run.mjs params-fleet`.',
  ]
  return { title: 'Parameters: a fleet refreshing against 40 TPS', markdown: lines.join('\n') }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { title, markdown } = await run()
  console.log(`## ${title}\n\n${markdown}`)
}

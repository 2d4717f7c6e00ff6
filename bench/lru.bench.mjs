// boundedLru against raw lru-cache with the same bounds: get (hits) and set (replacing values
// over a working set that fits), measured alternately in one process. Results are consumed so the
// JIT cannot drop the calls.
import { execFileSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { boundedLru, estimateSize } from '@warmstart/lru'
import { LRUCache } from 'lru-cache'
import { median } from './stats.mjs'

const KEYS = 1_000
const ITERATIONS = 2_000_000
const ROUNDS = 5
const PROCESSES = 5

const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`)
const values = Array.from({ length: KEYS }, (_, i) => ({ id: i, name: `name ${i}` }))

/** The same bounds, once as boundedLru options and once as lru-cache options. */
const CASES = [
  ['max: 2,000', { max: 2_000 }, { max: 2_000 }],
  [
    "maxBytes: '8mb' (default size estimate)",
    { maxBytes: '8mb' },
    { maxSize: 8 * 1024 ** 2, sizeCalculation: (value, key) => estimateSize(value) + estimateSize(key) },
  ],
  ["max: 2,000, ttl: '5m'", { max: 2_000, ttl: '5m' }, { max: 2_000, ttl: 300_000 }],
  // The same, with lru-cache given boundedLru's clock settings: the wrapper's own cost, alone.
  [
    "max: 2,000, ttl: '5m', both reading the clock at every access",
    { max: 2_000, ttl: '5m' },
    { max: 2_000, ttl: 300_000, perf: { now: () => Date.now() }, ttlResolution: 0 },
  ],
]

// Each cache gets its own copy of the loops (new Function), so that neither runs through call
// sites the JIT has specialised for the other.
const GET_LOOP = `
  let found = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) found += cache.get(keys[i % keys.length]).id
  const ns = Number(process.hrtime.bigint() - started) / iterations
  if (found === 0) throw new Error('no hits')
  return ns`
// A different value each time, as a real write is: replacing a value with itself is a no-op.
const SET_LOOP = `
  let stored = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) {
    if (cache.set(keys[i % keys.length], values[(i + 1) % keys.length]) !== false) stored++
  }
  const ns = Number(process.hrtime.bigint() - started) / iterations
  if (stored !== iterations) throw new Error('a set was refused')
  return ns`

function loops(cache) {
  const get = new Function('process', 'cache', 'keys', 'iterations', GET_LOOP)
  const set = new Function('process', 'cache', 'keys', 'values', 'iterations', SET_LOOP)
  return {
    get: () => get(process, cache, keys, ITERATIONS),
    set: () => set(process, cache, keys, values, ITERATIONS),
  }
}

function fill(cache) {
  for (let i = 0; i < KEYS; i++) cache.set(keys[i], values[i])
  return cache
}

const percent = (ratio) => `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)}%`

/** One process's medians for every case: [label, rawGet, wrappedGet, rawSet, wrappedSet] in ns/op. */
function measure() {
  // lru-cache instances made with different options generalise the field representations of
  // their shared hidden class, and the instance made first then runs on a deprecated map. Make one
  // throwaway cache of every configuration first, so that the measured ones all start alike.
  for (const [, ours, theirs] of CASES) {
    fill(boundedLru({ ...ours, name: 'warm-up' }))
    fill(new LRUCache(theirs))
  }
  const results = []
  for (const [label, ours, theirs] of CASES) {
    const wrapped = loops(fill(boundedLru({ ...ours, name: 'bench' })))
    const raw = loops(fill(new LRUCache(theirs)))
    const runs = { rawGet: raw.get, wrappedGet: wrapped.get, rawSet: raw.set, wrappedSet: wrapped.set }
    const names = Object.keys(runs)
    const times = Object.fromEntries(names.map((name) => [name, []]))
    // The order turns every round: whichever runs first or after another's garbage gets no edge.
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + round) % names.length]
        times[name].push(runs[name]())
      }
    }
    results.push([label, ...[times.rawGet, times.wrappedGet, times.rawSet, times.wrappedSet].map(median)])
  }
  return results
}

export async function run() {
  // How the JIT specialises lru-cache's shared code differs from one process to the next, by more
  // than the wrapper costs: each process gives one figure, and the table takes their median.
  const processes = Array.from({ length: PROCESSES }, () =>
    JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
        env: { ...process.env, LRU_BENCH_CHILD: '1' },
        encoding: 'utf8',
      }),
    ),
  )
  const rows = CASES.map(([label], c) => {
    const column = (i) => median(processes.map((results) => results[c][i]))
    const overheads = (raw, wrapped) => processes.map((results) => results[c][wrapped] / results[c][raw] - 1)
    const cell = (raw, wrapped) => {
      const each = overheads(raw, wrapped)
      return `${percent(median(each))} | ${percent(Math.min(...each))} to ${percent(Math.max(...each))}`
    }
    return [
      `| ${label} | get | ${column(1).toFixed(1)} | ${column(2).toFixed(1)} | ${cell(1, 2)} |`,
      `| ${label} | set | ${column(3).toFixed(1)} | ${column(4).toFixed(1)} | ${cell(3, 4)} |`,
    ].join('\n')
  })
  const markdown = `${PROCESSES} processes, each the median of ${ROUNDS} rounds of ${ITERATIONS.toLocaleString('en')} operations over ${KEYS.toLocaleString('en')} keys (all hits; sets replace values), nobody listening to events. The figures are the medians of the processes; the last column is the spread of the overhead across them.

| bounds | op | lru-cache ns/op | boundedLru ns/op | overhead | overhead, process range |
| --- | --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Goal: wrapper overhead under 10%. With a TTL, boundedLru reads the wall clock at every access
(\`ttlResolution: 0\`) where lru-cache by default reuses a \`performance.now()\` reading for 1 ms;
that read is the price of judging expiry correctly after a freeze. The last two rows give lru-cache
the same clock settings, so they measure the wrapper alone. Reproduce: \`node bench/lru.bench.mjs\`.`
  return { title: '@warmstart/lru: boundedLru against lru-cache', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.LRU_BENCH_CHILD) process.stdout.write(JSON.stringify(measure()))
  else process.stdout.write(`${(await run()).markdown}\n`)
}

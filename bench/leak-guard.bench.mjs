// The leak guard's cost: the fast check per invocation with five registered caches of 1,000 entries
// (plain Maps registered with registerRoot, then boundedLru caches, which the guard reads through their
// inspector, then caches listed by an inspector that also keep a revision, which the guard skips while
// unchanged), and the deep check (a heap snapshot) on a heap of about 50 MB.
// Run: node bench/leak-guard.bench.mjs
import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { registerRoot } from '@warmstart/core'
import { leakGuard } from '@warmstart/leak-guard'
import { deepCheck } from '@warmstart/leak-guard/deep'
import { boundedLru } from '@warmstart/lru'
import { median } from './stats.mjs'

function request() {
  const id = randomUUID().slice(0, 8)
  return {
    event: {
      headers: { authorization: `Bearer tok-${randomUUID()}`, cookie: `session=${randomUUID()}` },
      requestContext: { requestId: randomUUID(), http: { sourceIp: '198.51.100.7' } },
      body: JSON.stringify({ userId: `user-${id}`, email: `p.${id}@example.org`, orderId: `ord-${id}` }),
    },
    context: { awsRequestId: randomUUID() },
  }
}

/** A cache its owner lists through an inspector and counts the writes of, registered with that revision. */
class CountedCache {
  #entries = new Map()
  #writes = 0
  constructor(name) {
    registerRoot(`bench:counted-${name}`, this, (cache) => cache.entries(), {
      revision: (cache) => cache.#writes,
    })
  }
  set(key, value) {
    this.#writes++
    this.#entries.set(key, value)
  }
  entries() {
    return this.#entries.entries()
  }
  clear() {
    this.#writes++
    this.#entries.clear()
  }
}

const product = (c, i) => ({ id: `product-${c}-${i}`, name: `Widget ${i}`, price: i * 3 })
globalThis.benchConfig = { region: 'eu-west-1', flags: { checkout: 'v2' } }

async function perInvocation(guard, handler, runs) {
  const samples = []
  for (let i = 0; i < runs; i++) {
    const { event, context } = request()
    const started = performance.now()
    if (guard) await guard.wrap(handler)(event, context)
    else await handler(event, context)
    samples.push((performance.now() - started) * 1000)
  }
  return median(samples)
}

/** The fast check with five caches of 1,000 entries: unchanged, then one gaining an entry per invocation. */
async function fastCheck(caches) {
  const guard = leakGuard({ mode: 'report', onFinding: () => {} })
  const noop = async () => ({ statusCode: 200 })
  let n = 0
  const addsEntry = async () => {
    caches[0].set(`product-0-extra-${n++}`, { name: 'Widget', price: 1 })
    return { statusCode: 200 }
  }
  await perInvocation(guard, noop, 500)
  const steady = await perInvocation(guard, noop, 2000)
  const growing = await perInvocation(guard, addsEntry, 300)
  return { steady, growing }
}

export async function run() {
  const bare = await perInvocation(undefined, async () => ({ statusCode: 200 }), 2000)

  const maps = []
  const unregister = []
  for (let c = 0; c < 5; c++) {
    const cache = new Map()
    for (let i = 0; i < 1000; i++) cache.set(`product-${c}-${i}`, product(c, i))
    unregister.push(registerRoot(`bench:cache-${c}`, cache))
    maps.push(cache)
  }
  const mapFigures = await fastCheck(maps)
  for (const done of unregister) done()

  const lrus = []
  for (let c = 0; c < 5; c++) {
    const cache = boundedLru({ max: 2000, name: `bench-${c}` })
    for (let i = 0; i < 1000; i++) cache.set(`product-${c}-${i}`, product(c, i))
    lrus.push(cache)
  }
  const lruFigures = await fastCheck(lrus)
  for (const cache of lrus) cache.clear()

  const counted = []
  for (let c = 0; c < 5; c++) {
    const cache = new CountedCache(c)
    for (let i = 0; i < 1000; i++) cache.set(`product-${c}-${i}`, product(c, i))
    counted.push(cache)
  }
  const countedFigures = await fastCheck(counted)
  for (const cache of counted) cache.clear()
  const noop = async () => ({ statusCode: 200 })

  // About 50 MB of live data for the deep check, as 40,000 records of 1 KB: a snapshot's cost follows the
  // number of objects more than their bytes (FACTS.md: 44k nodes, 40 MB, 0.3 s to take and parse).
  const ballast = []
  for (let i = 0; i < 40_000; i++) ballast.push({ id: i, text: `${i}`.padEnd(1024, 'x') })
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024
  const deepGuard = leakGuard({ mode: 'report', onFinding: () => {} })
  await deepGuard.wrap(noop)(request().event, request().context)
  const deepSamples = []
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    await deepGuard.deepCheck(deepCheck)
    deepSamples.push(performance.now() - started)
  }
  ballast.length = 0

  const markdown = [
    '| measurement | median |',
    '| --- | --- |',
    `| handler alone (no guard) | ${bare.toFixed(1)} µs |`,
    `| fast check per invocation, 5 registered Maps of 1,000 entries, unchanged (probed by key) | ${mapFigures.steady.toFixed(1)} µs |`,
    `| fast check per invocation, 5 registered Maps, one gains an entry each time (only new or replaced values read) | ${mapFigures.growing.toFixed(1)} µs |`,
    `| fast check per invocation, 5 boundedLru of 1,000 entries, unchanged (listed by their inspector) | ${lruFigures.steady.toFixed(1)} µs |`,
    `| fast check per invocation, 5 boundedLru, one gains an entry each time | ${lruFigures.growing.toFixed(1)} µs |`,
    `| fast check per invocation, 5 caches of 1,000 entries listed by an inspector with a revision, unchanged (skipped) | ${countedFigures.steady.toFixed(1)} µs |`,
    `| fast check per invocation, 5 caches with a revision, one gains an entry each time (that one listed again) | ${countedFigures.growing.toFixed(1)} µs |`,
    `| deep check (heap snapshot + search), heap of ${heapMb.toFixed(0)} MB | ${median(deepSamples).toFixed(0)} ms |`,
    '',
    `Node ${process.version}. Reproduce: \`node bench/leak-guard.bench.mjs\` (after \`node_modules/.bin/pnpm build\`).`,
  ].join('\n')
  return { title: 'Leak guard', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { title, markdown } = await run()
  console.log(`## ${title}\n\n${markdown}`)
}

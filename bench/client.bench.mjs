// lazy().get() on an instance already created, against the hand-written module-scope singleton
// `x ??= create()` that it replaces. Both loops are the same shape, run alternately in one
// process, and sum a field of what they get so the JIT cannot drop the call.
import { pathToFileURL } from 'node:url'
import { lazy } from '@warmstart/client'
import { median } from './stats.mjs'

const ITERATIONS = 20_000_000
const ROUNDS = 9

const create = () => ({ answer: 1 })

let handWritten
function getHandWritten() {
  handWritten ??= create()
  return handWritten
}

const syncLazy = lazy(create)
const asyncLazy = lazy(async () => create())

function timeHandWritten() {
  let sum = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) sum += getHandWritten().answer
  const ns = Number(process.hrtime.bigint() - started) / ITERATIONS
  if (sum !== ITERATIONS) throw new Error('hand-written singleton returned a wrong value')
  return ns
}

function timeLazy() {
  let sum = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) sum += syncLazy.get().answer
  const ns = Number(process.hrtime.bigint() - started) / ITERATIONS
  if (sum !== ITERATIONS) throw new Error('lazy returned a wrong value')
  return ns
}

async function timeAsyncLazy() {
  const iterations = ITERATIONS / 20
  let sum = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) sum += (await asyncLazy.get()).answer
  const ns = Number(process.hrtime.bigint() - started) / iterations
  if (sum !== iterations) throw new Error('async lazy returned a wrong value')
  return ns
}

async function timeAwaitedHandWritten() {
  const iterations = ITERATIONS / 20
  let sum = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) sum += (await getHandWritten()).answer
  const ns = Number(process.hrtime.bigint() - started) / iterations
  if (sum !== iterations) throw new Error('hand-written singleton returned a wrong value')
  return ns
}

export async function run() {
  await asyncLazy.get()
  syncLazy.get()
  const rows = { hand: [], lazy: [], awaitedHand: [], asyncLazy: [] }
  for (let round = 0; round < ROUNDS; round++) {
    rows.hand.push(timeHandWritten())
    rows.lazy.push(timeLazy())
    rows.awaitedHand.push(await timeAwaitedHandWritten())
    rows.asyncLazy.push(await timeAsyncLazy())
  }
  const hand = median(rows.hand)
  const sync = median(rows.lazy)
  const awaitedHand = median(rows.awaitedHand)
  const async = median(rows.asyncLazy)
  const markdown = `Median of ${ROUNDS} rounds of ${ITERATIONS.toLocaleString('en')} calls (async: ${(ITERATIONS / 20).toLocaleString('en')} awaited calls), on an instance already created, nobody listening to events.

| what | ns/op | ratio |
| --- | ---: | ---: |
| hand-written \`x ??= create()\` | ${hand.toFixed(2)} | 1.00 |
| \`lazy(syncFactory).get()\` | ${sync.toFixed(2)} | ${(sync / hand).toFixed(2)} |
| \`await x ??= create()\` | ${awaitedHand.toFixed(2)} | 1.00 |
| \`await lazy(asyncFactory).get()\` | ${async.toFixed(2)} | ${(async / awaitedHand).toFixed(2)} |

Goal: the sync lazy within 1.5× of the hand-written singleton. Reproduce: \`node bench/client.bench.mjs\`.`
  return { title: '@warmstart/client: lazy().get() on a warm instance', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { markdown } = await run()
  process.stdout.write(`${markdown}\n`)
}

// boundedLru's byte budget against the memory it really holds: maxBytes '10%' of a 128 MB
// function, 10,000 inserts of each value kind of issue 16 (each value holding about 1 MB the
// size estimate has to find, or cannot see), RSS measured after a full GC before and after. Each
// kind runs in a child process of its own (node --expose-gc), so that one kind's garbage or a
// crash does not touch the next. The children run with MALLOC_MMAP_THRESHOLD_=131072: glibc
// otherwise keeps freed 1 MB blocks in its heap for reuse, and RSS then counts garbage the cache
// no longer holds (the control rows show the same churn with nothing stored).
import { execFileSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { boundedLru, estimateSize } from '@warmstart/lru'
import { median } from './stats.mjs'

const INSERTS = Number(process.env.LRU_RSS_INSERTS ?? 10_000)
const MB = 1024 * 1024
/** A kind whose RSS passes this many budgets is stopped early (the machine would run out first). */
const STOP_AT = 8

class Holder {
  #data
  constructor(data) {
    this.#data = data
  }
  get length() {
    return this.#data.length
  }
}

const fill = (i) => Buffer.alloc(MB, i % 251) // filled, so that every page is resident
const bigString = (i) => String(i).padEnd(MB, 'x')

const array20k = (i) => Array.from({ length: 20_000 }, (_, j) => ({ id: i + j, name: `n${j}` }))

/** [label, make(i), store it?] */
const KINDS = [
  ['control: a 1 MB Buffer made and dropped, nothing stored', (i) => fill(i), false],
  ['control: an array of 20k small objects made and dropped', (i) => array20k(i), false],
  ['16-byte view of a 1 MB Buffer', (i) => fill(i).subarray(0, 16)],
  [
    'object nested 10 deep over 1 MB',
    (i) => {
      let value = { data: fill(i) }
      for (let d = 0; d < 10; d++) value = { next: value }
      return value
    },
  ],
  ['private field (#data) of 1 MB', (i) => new Holder(fill(i))],
  [
    'non-enumerable field of 1 MB',
    (i) => Object.defineProperty({}, 'data', { value: fill(i), enumerable: false }),
  ],
  ['symbol-keyed field of 1 MB', (i) => ({ [Symbol('data')]: fill(i) })],
  ['array of 20k small objects', (i) => array20k(i)],
  ['16-char slice of a 1 MB string (default estimate)', (i) => bigString(i).slice(0, 16)],
  [
    '16-char slice of a 1 MB string, stored as structuredClone(slice)',
    (i) => structuredClone(bigString(i).slice(0, 16)),
  ],
]

function child(index) {
  const [, make, store = true] = KINDS[index]
  const cache = boundedLru({ maxBytes: '10%', name: 'rss' })
  const budget = Math.floor(128 * MB * 0.1)
  globalThis.gc()
  const before = process.memoryUsage.rss()
  const heapBefore = process.memoryUsage().heapUsed
  let done = 0
  for (let i = 0; i < INSERTS; i++) {
    const value = make(i)
    if (store) cache.set(`key-${i}`, value)
    done++
    if (i % 500 === 499) {
      globalThis.gc()
      if (process.memoryUsage.rss() - before > STOP_AT * budget) break
    }
  }
  globalThis.gc()
  const growth = process.memoryUsage.rss() - before
  const heap = process.memoryUsage().heapUsed - heapBefore
  const stats = cache.stats()
  return { budget, growth, heap, done, bytes: stats.bytes, entries: stats.entries }
}

/** What sizing one array of 20k small objects costs, alone: the median of 200 estimates, in ms. */
function sizingCost() {
  const value = array20k(0)
  const times = []
  for (let i = 0; i < 200; i++) {
    const started = process.hrtime.bigint()
    estimateSize(value)
    times.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  return median(times)
}

export async function run() {
  const rows = KINDS.map(([label], index) => {
    const result = JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
        env: {
          ...process.env,
          LRU_RSS_CHILD: String(index),
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
          MALLOC_MMAP_THRESHOLD_: '131072',
        },
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      }),
    )
    const ratio = result.growth / result.budget
    const verdict = label.startsWith('control')
      ? ''
      : ratio <= 2
        ? 'within 2×'
        : result.done < INSERTS
          ? `**stopped after ${result.done} inserts**`
          : '**over 2×**'
    return `| ${label} | ${(result.growth / MB).toFixed(1)} | ${(result.heap / MB).toFixed(1)} | ${ratio.toFixed(2)} | ${verdict} | ${result.entries} | ${(result.bytes / MB).toFixed(1)} |`
  })
  const sizing = sizingCost()
  const markdown = `boundedLru with \`maxBytes: '10%'\` and \`AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128\` (a budget of 12.8 MB), ${INSERTS.toLocaleString('en')} inserts of each kind, each kind in its own process; RSS after a full GC, before and after. The default size estimate unless said.

| value kind | RSS growth, MB | JS heap growth, MB | RSS growth / budget | | entries kept | stats().bytes, MB |
| --- | ---: | ---: | ---: | --- | ---: | ---: |
${rows.join('\n')}

Sizing an array of 20k small objects with the default estimate: ${sizing.toFixed(3)} ms (median of 200; it took 9.4 ms before the estimate was sampled).

The control rows are the same churn with nothing stored: V8 keeps the heap it grew to while making 10,000 arrays of 20k objects, so RSS alone over-states what an array-valued cache holds; its JS heap growth (live objects after a full GC) is the figure to hold against the budget there, and the estimate errs high (\`stats().bytes\` above the heap growth). What the estimate can never see: a short string sliced from a long one keeps the long one alive (V8 keeps slices of 13 characters and more as views of their parent), and the slice looks like 16 characters. That row is stopped once RSS passes ${STOP_AT} budgets; storing a copy (\`structuredClone(slice)\`) or giving \`sizeOf\` bounds it. A private field, a promise or a Proxy counts as 1 MiB (\`UNSEEN_BYTES\`), which bounds memory for values of up to that size; give \`sizeOf\` for larger ones. Reproduce: \`node bench/lru-rss.bench.mjs\` (\`LRU_RSS_INSERTS\` to change the count).`
  return { title: '@warmstart/lru: the byte budget against RSS', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.LRU_RSS_CHILD !== undefined)
    process.stdout.write(JSON.stringify(child(Number(process.env.LRU_RSS_CHILD))))
  else process.stdout.write(`${(await run()).markdown}\n`)
}

// Warm invocations against one real PostgreSQL (startPostgres), five ways side by side: a
// module-level client reused with no checks (the floor), a connection opened per invocation, a module-level client that runs `SELECT 1` before each query,
// @warmstart/pg's pgConnection behind pgMiddleware, and serverless-postgres as its README uses it.
// Round trips are counted on the wire by a TCP proxy that reads the client's protocol messages.
// Each approach's first warm invocations are measured in new processes of their own (this file,
// run with FRESH_FLAG), its steady state in this one.
// Run twice: on loopback, where a round trip costs ~0.1 ms, and with the proxy holding every chunk
// for a one-way delay (0.5 ms by default: a 1 ms round trip, in the range of a connection across
// availability zones in one Region), where each round trip shows in the latency as it does in AWS.
import { execFile } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import { startPostgres } from '@warmstart/testing'
import pg from 'pg'
import ServerlessClient from 'serverless-postgres'
import { median } from './stats.mjs'

const INVOCATIONS = 50
const ROUNDS = 20
/** Warm invocations each approach serves, unmeasured, before its steady state is measured. */
const WARMED = 4000
/** Connect per invocation's share of them: its cost is the connection's set-up, which no warming-up changes (4,000 would take two minutes). */
const WARMED_CONNECTING = 100
/**
 * How many instances of each approach the steady state runs, each on its own server backend, their
 * invocations pooled: backends alone differ by a few µs (seen up to 6 µs on this 2-core machine,
 * by where the scheduler puts them), so one backend per approach would put that difference in the
 * ratio. Connect per invocation meets a new backend in each invocation already.
 */
const BACKENDS = 3
/** How many new processes each approach's first warm invocations are measured in. */
const FRESH_PROCESSES = 6
/** How many warm invocations each of those processes measures, after its cold one. */
const FRESH_INVOCATIONS = 1000
/** The argument that makes this file a child that measures one approach's first warm invocations. */
const FRESH_FLAG = '--fresh-process'
const QUERY = 'SELECT $1::int AS n'
const floorName = 'a reused pg.Client, no checks (the floor)'
const warmstartName = '@warmstart/pg pgConnection + pgMiddleware'
const connectingName = 'connect per invocation'
/** The proxy's delay in each direction for the second run (PG_BENCH_DELAY_MS overrides it). */
const ONE_WAY_DELAY_MS = Number(process.env.PG_BENCH_DELAY_MS ?? 0.5)

/**
 * Writes chunks to a socket `delayMs` after they arrived, in order. Node's timers cannot wait less
 * than 1 ms, so the last stretch before a chunk is due is waited for with setImmediate, which
 * keeps the event loop (and the client on it) running meanwhile.
 */
function delayedWriter(socket, delayMs) {
  if (delayMs === 0) return (chunk) => socket.write(chunk)
  const queue = []
  let pumping = false
  const pump = () => {
    const now = performance.now()
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()
      if (!socket.destroyed) socket.write(chunk)
    }
    if (queue.length === 0) {
      pumping = false
      return
    }
    const wait = queue[0].due - now
    if (wait > 2) setTimeout(pump, wait - 1.5)
    else setImmediate(pump)
  }
  return (chunk) => {
    queue.push({ due: performance.now() + delayMs, chunk })
    if (!pumping) {
      pumping = true
      setImmediate(pump)
    }
  }
}

// Counts what a client sends that waits on the server: the startup message, each password/SASL
// message, each simple Query and each Sync that closes an extended-protocol exchange. Each chunk
// is held for `delayMs` in each direction.
async function countingProxy(target, delayMs) {
  let roundTrips = 0
  const sockets = new Set()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    upstream.setNoDelay(true)
    client.setNoDelay(true)
    sockets.add(client).add(upstream)
    const toServer = delayedWriter(upstream, delayMs)
    const toClient = delayedWriter(client, delayMs)
    let buffer = Buffer.alloc(0)
    let started = false
    client.on('data', (chunk) => {
      toServer(chunk)
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const header = started ? 5 : 4
        if (buffer.length < header) break
        const length = started ? buffer.readInt32BE(1) + 1 : buffer.readInt32BE(0)
        if (buffer.length < length) break
        if (!started || 'pQS'.includes(String.fromCharCode(buffer[0]))) roundTrips += 1
        started = true
        buffer = buffer.subarray(length)
      }
    })
    upstream.on('data', (chunk) => toClient(chunk))
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      a.on('error', () => b.destroy())
      a.on('close', () => b.destroy())
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    take() {
      const taken = roundTrips
      roundTrips = 0
      return taken
    },
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

/** A module-level pg.Client, connected at its first invocation, that runs `work` in each. */
function moduleClient(config, work) {
  const client = new pg.Client(config)
  client.on('error', () => {})
  return {
    async invoke(i) {
      if (!client._connected) await client.connect()
      await work(client, i)
    },
    end: () => client.end(),
  }
}

/** Each approach, by name, made against `config`: `invoke(i, context)` runs one warm invocation's work. */
const APPROACHES = [
  [
    floorName,
    // One module-level client, connected once, reused as is (no liveness check at all).
    (config) => moduleClient(config, (client, i) => client.query(QUERY, [i])),
  ],
  [
    connectingName,
    (config) => ({
      warmUp: WARMED_CONNECTING,
      async invoke(i) {
        const client = new pg.Client(config)
        await client.connect()
        await client.query(QUERY, [i])
        await client.end()
      },
      end: async () => {},
    }),
  ],
  [
    '`SELECT 1`, then the query',
    (config) =>
      moduleClient(config, async (client, i) => {
        await client.query('SELECT 1')
        await client.query(QUERY, [i])
      }),
  ],
  [
    warmstartName,
    (config) => {
      const db = pgConnection({ config, name: 'bench' })
      const middleware = pgMiddleware({ db, setToContext: true })
      return {
        async invoke(i, context) {
          const handlerRequest = { event: {}, context, response: undefined }
          await middleware.before(handlerRequest)
          await handlerRequest.context.pg.query(QUERY, [i])
          await middleware.after(handlerRequest)
        },
        end: () => db.end(),
      }
    },
  ],
  [
    'serverless-postgres (connect, query, clean)',
    (config) => {
      const serverless = new ServerlessClient({ ...config, application_name: 'bench-serverless' })
      return {
        async invoke(i) {
          await serverless.connect()
          await serverless.query(QUERY, [i])
          await serverless.clean()
        },
        end: () => serverless.end(),
      }
    },
  ],
]

/** BACKENDS instances of each approach (connect per invocation: one), for the steady state. */
function contestants(config) {
  return APPROACHES.flatMap(([name, make]) =>
    Array.from({ length: name === connectingName ? 1 : BACKENDS }, () => ({ name, ...make(config) })),
  )
}

const execFileAsync = promisify(execFile)

/** `list` turned by `k` places: round k of an order that turns each round. */
function turned(list, k) {
  return [...list.slice(k % list.length), ...list.slice(0, k % list.length)]
}

let request = 0

/** A Lambda context: a new request id, and 30 s left. */
function lambdaContext() {
  request += 1
  const ends = Date.now() + 30_000
  return { awsRequestId: `bench-${request}`, getRemainingTimeInMillis: () => ends - Date.now() }
}

/**
 * One invocation of `contestant`, in ms. Its handler gets a context as Lambda passes it, made
 * outside the timing as the runtime makes it: with the remaining time, so pgConnection's
 * statements run under their deadline.
 */
async function timedInvocation(contestant, i) {
  const context = lambdaContext()
  const started = process.hrtime.bigint()
  await contestant.invoke(i, context)
  return Number(process.hrtime.bigint() - started) / 1e6
}

/**
 * One measured stretch: ROUNDS rounds of INVOCATIONS invocations of every instance, in an order
 * that turns each round, so that no approach always follows the same one (and pays for what that
 * one leaves behind: closed connections, garbage). Returns each approach's median latency over its
 * instances and its mean round trips per invocation.
 */
async function stretch(all, proxy) {
  const latencies = new Map(all.map((c) => [c.name, []]))
  const trips = new Map(all.map((c) => [c.name, 0]))
  proxy.take()
  for (let round = 0; round < ROUNDS; round++) {
    for (const contestant of turned(all, round)) {
      for (let i = 0; i < INVOCATIONS; i++) {
        latencies.get(contestant.name).push(await timedInvocation(contestant, i))
        trips.set(contestant.name, trips.get(contestant.name) + proxy.take())
      }
    }
  }
  return new Map(
    [...latencies].map(([name, ms]) => [name, { ms: median(ms), trips: trips.get(name) / ms.length }]),
  )
}

/**
 * One approach's first FRESH_INVOCATIONS warm invocations after its cold one, in this process (a
 * child: nothing else has run here, as in a new execution environment); prints their latencies.
 */
async function freshChild(config, name) {
  const [, make] = APPROACHES.find(([approach]) => approach === name)
  const contestant = make(config)
  await contestant.invoke(0, lambdaContext())
  const latencies = []
  for (let i = 1; i <= FRESH_INVOCATIONS; i++) latencies.push(await timedInvocation(contestant, i))
  await contestant.end()
  process.stdout.write(JSON.stringify(latencies))
}

/**
 * Each approach's first warm invocations in FRESH_PROCESSES new processes, the approaches in turn:
 * the median of them all. Connect per invocation is left out: every one of its invocations is a
 * first one already. The proxy keeps running here meanwhile, so the children are awaited, not waited for.
 */
async function freshStretch(config) {
  const names = APPROACHES.map(([name]) => name).filter((name) => name !== connectingName)
  const latencies = new Map(names.map((name) => [name, []]))
  const env = { ...process.env, PG_BENCH_CONFIG: JSON.stringify(config) }
  for (let k = 0; k < FRESH_PROCESSES; k++) {
    for (const name of turned(names, k)) {
      const { stdout } = await execFileAsync(
        process.execPath,
        [fileURLToPath(import.meta.url), FRESH_FLAG, name],
        { env, maxBuffer: 16 * 1024 * 1024 },
      )
      latencies.get(name).push(...JSON.parse(stdout))
    }
  }
  return new Map(names.map((name) => [name, median(latencies.get(name))]))
}

/**
 * Every approach's warm invocations through a proxy with the given one-way delay, twice: its first
 * ones in new processes (freshStretch), and its steady state in this process once it has served
 * WARMED (stretch). Returns the table's rows and pgConnection against the floor in each.
 */
async function measure(server, delayMs) {
  const proxy = await countingProxy(server.config, delayMs)
  const config = { ...server.config, host: '127.0.0.1', port: proxy.port }
  try {
    const fresh = await freshStretch(config)
    const all = contestants(config)
    try {
      for (const contestant of all) {
        // The cold start is not measured, nor the warm invocations that lead to the steady state.
        for (let i = 0; i <= (contestant.warmUp ?? WARMED); i++) await contestant.invoke(i, lambdaContext())
      }
      const steady = await stretch(all, proxy)
      const freshFastest = Math.min(...fresh.values())
      const steadyFastest = Math.min(...[...steady.values()].map((r) => r.ms))
      const rows = [...steady].map(([name, later]) => {
        const first = fresh.get(name)
        const firstCells =
          first === undefined ? '— | —' : `${first.toFixed(3)} ms | ${(first / freshFastest).toFixed(2)}×`
        return `| ${name} | ${firstCells} | ${later.ms.toFixed(3)} ms | ${(later.ms / steadyFastest).toFixed(2)}× | ${later.trips.toFixed(2)} |`
      })
      return {
        rows,
        fresh: overFloor(fresh.get(warmstartName), fresh.get(floorName)),
        steady: overFloor(steady.get(warmstartName).ms, steady.get(floorName).ms),
      }
    } finally {
      for (const contestant of all) await contestant.end()
    }
  } finally {
    proxy.close()
  }
}

/** `1.28× (+28 µs)`: pgConnection against the floor. */
function overFloor(ms, floor) {
  return `${(ms / floor).toFixed(2)}× (+${Math.round((ms - floor) * 1000)} µs)`
}

const table = (
  rows,
) => `| approach | first ${FRESH_INVOCATIONS.toLocaleString('en')} warm invocations of a new process (median) | vs fastest | after ${WARMED.toLocaleString('en')} warm invocations, ${(ROUNDS * INVOCATIONS).toLocaleString('en')} more per instance (median) | vs fastest | round trips per invocation |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}`

export async function run() {
  const server = await startPostgres()
  let loopback
  let delayed
  try {
    loopback = await measure(server, 0)
    delayed = await measure(server, ONE_WAY_DELAY_MS)
  } finally {
    await server.stop()
  }
  const markdown = `Warm invocations of a handler that runs one parameterised query (\`${QUERY}\`) against a real
PostgreSQL, through a TCP proxy that counts the client's round trips (startup and each
password/SASL message, each simple Query, each Sync of the extended protocol). Each approach is
measured twice, each invocation handed a Lambda context made outside its timing:

- **First warm invocations of a new process:** what a new execution environment's early invocations
  see, while V8 still runs the code that is new to it unoptimised. Each approach runs alone in a
  new \`node\` process: one cold invocation (not measured), then ${FRESH_INVOCATIONS.toLocaleString('en')} warm ones; ${FRESH_PROCESSES} processes per
  approach, the approaches in turn, the median over all of them. Connect per invocation is left out
  here: each of its invocations is a first one already.
- **Steady state:** all approaches in one process, ${BACKENDS} instances of each on ${BACKENDS} server backends
  (server backends alone differ by a few µs, by where the scheduler puts them), once each instance
  has served ${WARMED.toLocaleString('en')} warm invocations (connect per invocation: one instance, ${WARMED_CONNECTING}, its cost being
  the connection's set-up); then ${ROUNDS} rounds of ${INVOCATIONS} invocations of each instance, in an order that
  turns each round, the median over an approach's instances.

On loopback, where a round trip costs about 0.1 ms and the rest of the work dominates:

${table(loopback.rows)}

With the proxy holding every chunk ${ONE_WAY_DELAY_MS} ms in each direction (a ${2 * ONE_WAY_DELAY_MS} ms round trip, in the
range of a connection across availability zones in one Region), so that each round trip shows in the
latency as it does in AWS:

${table(delayed.rows)}

pgConnection + pgMiddleware against the floor, in the steady state: ${loopback.steady} on loopback,
${delayed.steady} with ${ONE_WAY_DELAY_MS} ms each way; in the first ${FRESH_INVOCATIONS.toLocaleString('en')} warm invocations of a new process:
${loopback.fresh} on loopback, ${delayed.fresh} with ${ONE_WAY_DELAY_MS} ms each way. Its warm path is the query alone:
liveness comes from the socket's events, and a validation round trip is paid only after an idle
longer than \`validateAfterIdle\` (a freeze).
Reproduce: \`node_modules/.bin/pnpm --filter @warmstart/pg build && node bench/run.mjs pg\`
(\`PG_BENCH_DELAY_MS\` sets the one-way delay of the second run).`
  return { title: '@warmstart/pg: warm invocation latency and round trips', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === FRESH_FLAG) {
    await freshChild(JSON.parse(process.env.PG_BENCH_CONFIG), process.argv[3])
  } else {
    const { title, markdown } = await run()
    process.stdout.write(`## ${title}\n\n${markdown}\n`)
  }
  process.exit(0)
}

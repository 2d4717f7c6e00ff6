// Warm invocations against one real PostgreSQL (startPostgres), five ways side by side: a
// module-level client reused with no checks (the floor), a connection opened per invocation, a module-level client that runs `SELECT 1` before each query,
// @warmstart/pg's pgConnection behind pgMiddleware, and serverless-postgres as its README uses it.
// Round trips are counted on the wire by a TCP proxy that reads the client's protocol messages.
// Run twice: on loopback, where a round trip costs ~0.1 ms, and with the proxy holding every chunk
// for a one-way delay (0.5 ms by default: a 1 ms round trip, in the range of a connection across
// availability zones in one Region), where each round trip shows in the latency as it does in AWS.
import net from 'node:net'
import { pathToFileURL } from 'node:url'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import { startPostgres } from '@warmstart/testing'
import pg from 'pg'
import ServerlessClient from 'serverless-postgres'
import { median } from './stats.mjs'

const INVOCATIONS = 50
const ROUNDS = 20
/** Warm invocations each approach serves, unmeasured, between the first stretch and the second. */
const WARMED = 2000
/** Connect per invocation's share of them: its cost is the connection's set-up, which no warming-up changes (2,000 would take a minute). */
const WARMED_CONNECTING = 100
/** How many invocations a stretch measures per approach. */
const MEASURED = (ROUNDS * INVOCATIONS).toLocaleString('en')
const QUERY = 'SELECT $1::int AS n'
const floorName = 'a reused pg.Client, no checks (the floor)'
const warmstartName = '@warmstart/pg pgConnection + pgMiddleware'
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

function contestants(config) {
  const perInvocation = {
    name: 'connect per invocation',
    warmUp: WARMED_CONNECTING,
    async invoke(i) {
      const client = new pg.Client(config)
      await client.connect()
      await client.query(QUERY, [i])
      await client.end()
    },
    end: async () => {},
  }

  // The floor: one module-level client, connected once, reused as is (no liveness check at all).
  const reused = new pg.Client(config)
  reused.on('error', () => {})
  const raw = {
    name: floorName,
    async invoke(i) {
      if (!reused._connected) await reused.connect()
      await reused.query(QUERY, [i])
    },
    end: () => reused.end(),
  }

  const pinged = new pg.Client(config)
  pinged.on('error', () => {})
  const selectFirst = {
    name: '`SELECT 1`, then the query',
    async invoke(i) {
      if (!pinged._connected) await pinged.connect()
      await pinged.query('SELECT 1')
      await pinged.query(QUERY, [i])
    },
    end: () => pinged.end(),
  }

  const db = pgConnection({ config, name: 'bench' })
  const middleware = pgMiddleware({ db, setToContext: true })
  const warmstart = {
    name: warmstartName,
    async invoke(i, context) {
      const handlerRequest = { event: {}, context, response: undefined }
      await middleware.before(handlerRequest)
      await handlerRequest.context.pg.query(QUERY, [i])
      await middleware.after(handlerRequest)
    },
    end: () => db.end(),
  }

  const serverless = new ServerlessClient({ ...config, application_name: 'bench-serverless' })
  const serverlessPostgres = {
    name: 'serverless-postgres (connect, query, clean)',
    async invoke(i) {
      await serverless.connect()
      await serverless.query(QUERY, [i])
      await serverless.clean()
    },
    end: () => serverless.end(),
  }
  return [raw, perInvocation, selectFirst, warmstart, serverlessPostgres]
}

let request = 0

/** A Lambda context: a new request id, and 30 s left. */
function lambdaContext() {
  request += 1
  const ends = Date.now() + 30_000
  return { awsRequestId: `bench-${request}`, getRemainingTimeInMillis: () => ends - Date.now() }
}

/**
 * One measured stretch: ROUNDS rounds of INVOCATIONS invocations of every approach, in an order
 * that turns each round, so that no approach always follows the same one (and pays for what that
 * one leaves behind: closed connections, garbage). Returns each approach's median latency and its
 * mean round trips per invocation.
 */
async function stretch(all, proxy) {
  const latencies = new Map(all.map((c) => [c.name, []]))
  const trips = new Map(all.map((c) => [c.name, 0]))
  proxy.take()
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...all.slice(round % all.length), ...all.slice(0, round % all.length)]
    for (const contestant of order) {
      for (let i = 0; i < INVOCATIONS; i++) {
        // Every approach's handler gets a context as Lambda passes it, made outside the timing as
        // the runtime makes it: with the remaining time, so pgConnection's statements run under
        // their deadline.
        const context = lambdaContext()
        const started = process.hrtime.bigint()
        await contestant.invoke(i, context)
        latencies.get(contestant.name).push(Number(process.hrtime.bigint() - started) / 1e6)
        trips.set(contestant.name, trips.get(contestant.name) + proxy.take())
      }
    }
  }
  return new Map(
    all.map((c) => [
      c.name,
      { ms: median(latencies.get(c.name)), trips: trips.get(c.name) / (ROUNDS * INVOCATIONS) },
    ]),
  )
}

/**
 * Every approach's warm invocations through a proxy with the given one-way delay: its first
 * ROUNDS × INVOCATIONS after the cold one, then as many again once it has served WARMED more. The
 * first stretch is what an environment's early invocations see, while V8 still runs the code
 * that is new to it unoptimised (and the server has just started); the second is the steady state
 * of an environment that has served a few thousand invocations.
 */
async function measure(server, delayMs) {
  const proxy = await countingProxy(server.config, delayMs)
  const config = { ...server.config, host: '127.0.0.1', port: proxy.port }
  const all = contestants(config)
  try {
    for (const contestant of all) await contestant.invoke(0, lambdaContext()) // the cold start is not measured
    const early = await stretch(all, proxy)
    for (const contestant of all) {
      for (let i = 0; i < (contestant.warmUp ?? WARMED); i++) await contestant.invoke(i, lambdaContext())
    }
    const steady = await stretch(all, proxy)
    const fastest = (stretchResult) => Math.min(...[...stretchResult.values()].map((r) => r.ms))
    const rows = all.map((c) => {
      const [first, later] = [early.get(c.name), steady.get(c.name)]
      return `| ${c.name} | ${first.ms.toFixed(3)} ms | ${(first.ms / fastest(early)).toFixed(2)}× | ${later.ms.toFixed(3)} ms | ${(later.ms / fastest(steady)).toFixed(2)}× | ${later.trips.toFixed(2)} |`
    })
    const against = (result) => overFloor(result.get(warmstartName).ms, result.get(floorName).ms)
    return { rows, early: against(early), steady: against(steady) }
  } finally {
    for (const contestant of all) await contestant.end()
    proxy.close()
  }
}

/** `1.28× (+28 µs)`: pgConnection against the floor. */
function overFloor(ms, floor) {
  return `${(ms / floor).toFixed(2)}× (+${Math.round((ms - floor) * 1000)} µs)`
}

const table = (
  rows,
) => `| approach | first ${MEASURED} warm invocations (median) | vs fastest | after ${WARMED.toLocaleString('en')} more (median) | vs fastest | round trips per invocation |
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
measured twice, ${MEASURED} invocations each time (${ROUNDS} rounds of ${INVOCATIONS}, the approaches in an order that
turns each round, each invocation handed a Lambda context made outside its timing): its first warm
invocations after the cold one (not measured), and again once it has served ${WARMED.toLocaleString('en')} more (connect per
invocation: ${WARMED_CONNECTING} more, its cost being the connection's set-up). The first stretch is what a new
environment's early invocations see, while V8 still runs the code new to it unoptimised and the
server has just started (here pg's own functions, optimised first for the plain clients, are also
optimised again for warmstart's, whose \`query\` is its own); the second is the steady state of an
environment that has served a few thousand invocations.

On loopback, where a round trip costs about 0.1 ms and the rest of the work dominates:

${table(loopback.rows)}

With the proxy holding every chunk ${ONE_WAY_DELAY_MS} ms in each direction (a ${2 * ONE_WAY_DELAY_MS} ms round trip, in the
range of a connection across availability zones in one Region), so that each round trip shows in the
latency as it does in AWS:

${table(delayed.rows)}

pgConnection + pgMiddleware against the floor, in the steady state: ${loopback.steady} on loopback,
${delayed.steady} with ${ONE_WAY_DELAY_MS} ms each way; in the first ${MEASURED} warm invocations: ${loopback.early} on
loopback, ${delayed.early} with ${ONE_WAY_DELAY_MS} ms each way. Its warm path is the query alone: liveness comes from
the socket's events, and a validation round trip is paid only after an idle longer than
\`validateAfterIdle\` (a freeze).
Reproduce: \`node_modules/.bin/pnpm --filter @warmstart/pg build && node bench/run.mjs pg\`
(\`PG_BENCH_DELAY_MS\` sets the one-way delay of the second run).`
  return { title: '@warmstart/pg: warm invocation latency and round trips', markdown }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { title, markdown } = await run()
  process.stdout.write(`## ${title}\n\n${markdown}\n`)
  process.exit(0)
}

// The demo: the orders API and the leaky handler, bundled as they are deployed, run as Lambda runs
// them (execution environments that freeze, are reaped and shut down) against a real PostgreSQL
// and a local SSM and Secrets Manager, with the faults that hurt real functions on the way.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { simulateLambda, startLocalAws, startPostgres } from '@warmstart/testing'
import {
  CONFIG_PARAMETER,
  createOrdersSchema,
  DB_SECRET_ID,
  dbSecret,
  ordersConfig,
  ordersEnvironment,
} from '../orders-api/fixtures.mjs'
import { httpApiEvent } from '../shared/api-gateway-event.mjs'
import { bundleHandler } from '../shared/bundle.mjs'
import { countCalls, findingsIn, Timeline } from './timeline.mjs'

const APPLICATION = 'orders-api'
const customers = ['customer-5f1d7a', 'customer-0b93e4', 'customer-c2e8a1']
const order = (subject, lines) => httpApiEvent({ method: 'POST', path: '/orders', subject, body: { lines } })
const list = (subject) => httpApiEvent({ method: 'GET', path: '/orders', subject })
const describe = (event) => event.routeKey

/**
 * Runs the whole demo and returns its summary. Everything it starts is stopped before it returns,
 * whether it succeeds or throws.
 * @param {{ write?: (line: string) => void, color?: boolean }} options
 */
export async function runDemo({ write = console.log, color = false } = {}) {
  const timeline = new Timeline({ write, color })
  const cleanup = []
  try {
    return await scenario(timeline, cleanup)
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined)
  }
}

async function scenario(timeline, cleanup) {
  // examples/.tmp is gitignored: on a fresh clone it does not exist until something makes it. It
  // lies inside the workspace so that the bundles find the SDK clients they leave out.
  const parent = fileURLToPath(new URL('../.tmp/', import.meta.url))
  await mkdir(parent, { recursive: true })
  const tmp = await mkdtemp(`${parent}demo-`)
  cleanup.push(() => rm(tmp, { recursive: true, force: true }))
  const [postgres, orders, leaky] = await Promise.all([
    startPostgres(),
    bundleHandler({
      entry: fileURLToPath(new URL('../orders-api/handler.ts', import.meta.url)),
      outdir: `${tmp}/orders-api`,
    }),
    // Identifiers kept: the leak guard's deep check then names the module variables.
    bundleHandler({
      entry: fileURLToPath(new URL('../leaky-handler/handler.ts', import.meta.url)),
      outdir: `${tmp}/leaky-handler`,
      minifyIdentifiers: false,
    }),
  ])
  cleanup.push(() => postgres.stop())
  await createOrdersSchema(postgres)
  const aws = await startLocalAws({
    parameters: { [CONFIG_PARAMETER]: JSON.stringify(ordersConfig) },
    secrets: { [DB_SECRET_ID]: dbSecret(postgres.config) },
  })
  cleanup.push(() => aws.stop())
  const server = await postgres.admin.query('SHOW server_version')
  timeline.note(
    `PostgreSQL ${server.rows[0].server_version} (embedded) · SSM and Secrets Manager at ${aws.endpoint}`,
  )
  timeline.note(
    `bundles (esbuild, minified ESM, node20): orders-api ${kb(orders.bytes)}, leaky-handler ${kb(leaky.bytes)}`,
  )

  const lambda = simulateLambda({
    handler: `${orders.file}#handler`,
    // The leak guard checks every invocation here (production: 1 in 100); config cached 2 s, so
    // that it expires during the demo.
    env: ordersEnvironment(aws, { LEAK_GUARD_SAMPLE_RATE: '1', CONFIG_TTL: '2s' }),
    maxEnvironments: 3,
    timeout: '10s',
  })
  cleanup.push(() => lambda.stop())
  const backends = new Set()
  const sample = async () => {
    const { rows } = await postgres.admin.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [APPLICATION],
    )
    for (const { pid } of rows) backends.add(pid)
    return postgres.connectionCount({ applicationName: APPLICATION })
  }
  // The orders API runs only the fast check, which reports in the invocation's own logs what that
  // invocation left: its rows take the findings of their own logs as they come.
  const record = async (event, invocation, startedAt, calls) =>
    timeline.add({
      fn: 'orders',
      invocation,
      request: describe(event),
      startedAt,
      calls,
      connections: calls !== undefined ? await sample() : undefined,
      findings: findingsIn(invocation.logs),
    })
  const invoke = async (event, environment) => {
    const startedAt = timeline.now()
    const before = aws.calls.length
    const invocation = await lambda.invoke(event, environment === undefined ? undefined : { environment })
    return record(event, invocation, startedAt, countCalls(aws.calls.slice(before)))
  }
  const burst = async (events) => {
    const startedAt = timeline.now()
    const before = aws.calls.length
    const invocations = await lambda.burst(events)
    const rows = []
    for (const [index, invocation] of invocations.entries()) {
      rows.push(await record(events[index], invocation, startedAt, undefined))
    }
    timeline.burstTotal(countCalls(aws.calls.slice(before)), await sample())
    return rows
  }
  const everyEnvironment = async (event) => {
    for (const { id } of lambda.environments()) await invoke(event(id), id)
  }

  timeline.start()
  timeline.phase('1. Three requests at once: three cold environments')
  timeline.header()
  await burst([
    order(customers[0], [{ sku: 'kettle-01', quantity: 1 }]),
    order(customers[1], [{ sku: 'mug-03', quantity: 4 }]),
    list(customers[2]),
  ])

  timeline.phase('2. Warm traffic: no remote call, the same connection')
  await invoke(list(customers[0]))
  await invoke(
    order(customers[2], [
      { sku: 'teapot-02', quantity: 1 },
      { sku: 'mug-03', quantity: 2 },
    ]),
  )
  await invoke(order(customers[1], [{ sku: 'last-one-04', quantity: 2 }]))
  await burst([list(customers[0]), list(customers[1]), list(customers[2])])

  timeline.phase('3. Frozen while the database drops every connection')
  const killed = await postgres.terminateBackends({ applicationName: APPLICATION })
  timeline.mark(`database terminated ${killed} connections of frozen environments`)
  await lambda.wait(300)
  await everyEnvironment(() => list(customers[0]))

  timeline.phase('4. The database password rotates')
  const rotated = `${postgres.config.password}-rotated-1`
  await postgres.setPassword(postgres.config.user, rotated)
  aws.rotateSecret(DB_SECRET_ID, dbSecret(postgres.config, rotated))
  timeline.mark('password rotated (ALTER ROLE + new AWSCURRENT secret); sessions stay open')
  await invoke(list(customers[1]))
  await lambda.wait(300)
  const dropped = await postgres.terminateBackends({ applicationName: APPLICATION })
  timeline.mark(`idle sessions closed by the server (${dropped}): every environment must log in again`)
  await everyEnvironment(() => order(customers[0], [{ sku: 'mug-03', quantity: 1 }]))

  timeline.phase('5. The config expires while SSM throttles')
  await lambda.wait(2_300)
  aws.injectFault({ service: 'ssm', kind: 'throttle', times: 2 })
  timeline.mark('SSM throttles the next 2 requests (ThrottlingException)')
  await everyEnvironment(() => list(customers[2]))

  timeline.phase('6. An idle environment is reaped; the next burst starts a new one')
  const reaped = lambda.environments()[0].id
  await lambda.reap(reaped)
  timeline.mark(`${reaped} reaped without warning (SIGKILL)`)
  await burst([
    list(customers[0]),
    list(customers[1]),
    order(customers[2], [{ sku: 'kettle-01', quantity: 1 }]),
  ])

  timeline.phase('7. Shutdown: SIGTERM, connections closed by onShutdown')
  const exits = await lambda.shutdown()
  timeline.mark(`${exits.length} environments shut down`)
  timeline.note(`connections left open: ${await sample()}`)

  timeline.phase('8. The leaky handler: the leak guard says where request data outlives its invocation')
  const leakyLambda = simulateLambda({
    handler: `${leaky.file}#handler`,
    env: { LEAK_GUARD_DEEP: '1' },
    timeout: '10s',
  })
  cleanup.push(() => leakyLambda.stop())
  // The deep check judges an invocation once it has ended: when the environment's next invocation
  // begins, so its findings are logged there. Each finding names the invocation it is about, and
  // is printed under that invocation's row.
  const visits = []
  for (const subject of customers) {
    const event = httpApiEvent({ method: 'GET', path: '/me', subject })
    const startedAt = timeline.now()
    const invocation = await leakyLambda.invoke(event)
    visits.push({ event, invocation, startedAt, endedAt: timeline.now() })
  }
  const logged = visits.flatMap(({ invocation }) => findingsIn(invocation.logs))
  for (const [index, { event, invocation, startedAt, endedAt }] of visits.entries()) {
    const about = logged.filter((finding) => finding.invocation === invocation.requestId)
    timeline.add({ fn: 'leaky', invocation, request: describe(event), startedAt, endedAt, findings: about })
    for (const finding of about) {
      const when = finding.check === 'deep' ? 'deep check, as the next invocation began' : 'fast check'
      timeline.note(`  ↳ ${finding.path}  [${finding.kind}, ${when}]`)
    }
    if (index === visits.length - 1)
      timeline.note('  ↳ its deep check waits for the next invocation of this environment (none here)')
  }
  return summarize(timeline, aws, backends.size, { orders: orders.bytes, leaky: leaky.bytes })
}

function summarize(timeline, aws, connectionsOpened, bundles) {
  const rows = timeline.rows
  const of = (fn) => rows.filter((row) => row.fn === fn)
  // A place is where a finding's path starts (what holds the data), whatever value it found there.
  const places = (fn) =>
    new Set(of(fn).flatMap((row) => row.findings.map((finding) => finding.path.split(' → ')[0]))).size
  const summary = {
    invocations: rows.length,
    failures: rows.filter((row) => !row.invocation.ok).length,
    coldStarts: rows.filter((row) => row.invocation.coldStart).length,
    ssmCalls: aws.callCount({ service: 'ssm' }),
    secretsManagerCalls: aws.callCount({ service: 'secretsmanager' }),
    connectionsOpened,
    leaks: { clean: places('orders'), leaky: places('leaky') },
    bundles,
    // From the first invocation to the last; servers and bundles take a few seconds before it.
    wallSeconds: timeline.now(),
  }
  summary.goalsMet = summary.failures === 0 && summary.leaks.clean === 0 && summary.leaks.leaky > 0
  return { summary, timeline }
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(0)} KB`
}

// Parameters and secrets side by side: @warmstart/params, @aws-lambda-powertools/parameters and
// @middy/ssm + @middy/secrets-manager (6.4.5), against one local SSM / Secrets Manager endpoint
// (startLocalAws) with the real AWS SDK v3 clients. Two figures:
//  1. remote calls for the same workload: 20 parameters and 2 secrets per invocation, 1,000
//     invocations over 10 simulated minutes (one every 600 ms), TTL 5 minutes, counted at the server;
//  2. the cost of a warm read, once every value is cached (ns per read, and µs per invocation for
//     the whole spec in a Middy chain).
// Simulated time: every library here judges expiry by Date.now() (Powertools' ExpirableValue,
// Middy's processCache), so Date.now is replaced by the simulated clock while the workload runs;
// warmstart gets the same clock through its `clock` option. Middy also arms a setTimeout per cache
// key to refetch in the background; those timers are unref'd and never fire in the few real
// seconds the run takes, as they would not fire while Lambda keeps the process frozen.
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import middySecrets from '@middy/secrets-manager'
import middySsm from '@middy/ssm'
import { paramsMiddleware, secretsManager, ssmParameters } from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { startLocalAws } from '@warmstart/testing'
import { median } from './stats.mjs'

const PARAMETERS = Array.from({ length: 20 }, (_, i) => `/bench/app/p${String(i).padStart(2, '0')}`)
const SECRETS = ['bench/db', 'bench/api']
const INVOCATIONS = 1000
const STEP_MS = 600
const TTL_S = 300
const READS = 200_000
const ROUNDS = 5

const context = (n) => ({
  awsRequestId: `req-${n}`,
  functionName: 'bench',
  getRemainingTimeInMillis: () => 30_000,
})

/** Runs `fn` with Date.now and `new Date()` on a simulated clock, and setTimeout unref'd. */
async function withSimulatedTime(start, fn) {
  const RealDate = globalThis.Date
  const realSetTimeout = globalThis.setTimeout
  let now = start
  // Powertools anchors its expiry with `new Date()`, Middy with Date.now().
  globalThis.Date = class SimulatedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now)
      else super(...args)
    }
    static now() {
      return now
    }
  }
  globalThis.setTimeout = (callback, ms, ...args) => realSetTimeout(callback, ms, ...args).unref()
  try {
    return await fn({ now: () => now, set: (to) => (now = to) })
  } finally {
    globalThis.Date = RealDate
    globalThis.setTimeout = realSetTimeout
  }
}

/** The libraries, each set up the way its documentation teaches, with the same clients and TTL. */
function setups(aws, clock) {
  const config = { ...aws.clientConfig, maxAttempts: 1 }
  const ssmClient = new SSMClient(config)
  const secretsClient = new SecretsManagerClient(config)
  const app = async (_event, ctx) => ctx.p00 ?? 'ok'

  const ws = () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient), ttl: `${TTL_S}s`, jitter: 0, clock })
    const secrets = secretsManager({
      client: fromSecretsManagerClient(secretsClient),
      ttl: `${TTL_S}s`,
      jitter: 0,
      clock,
    })
    const fetch = Object.fromEntries(
      PARAMETERS.map((name, i) => [`p${String(i).padStart(2, '0')}`, ssm.ref(name)]),
    )
    for (const [i, id] of SECRETS.entries()) fetch[`s${i}`] = secrets.ref(id)
    return { handler: middy(app).use(paramsMiddleware({ fetch })), read: () => ssm.get(PARAMETERS[0]) }
  }
  const middyChain = () => {
    const cacheKey = `bench-${Math.random()}`
    const fetchData = Object.fromEntries(
      PARAMETERS.map((name, i) => [`p${String(i).padStart(2, '0')}`, name]),
    )
    const handler = middy(app)
      .use(
        middySsm({
          AwsClient: SSMClient,
          awsClientOptions: config,
          fetchData,
          cacheKey: `${cacheKey}-ssm`,
          cacheExpiry: TTL_S * 1000,
          setToContext: true,
          disablePrefetch: true,
        }),
      )
      .use(
        middySecrets({
          AwsClient: SecretsManagerClient,
          awsClientOptions: config,
          fetchData: { s0: SECRETS[0], s1: SECRETS[1] },
          cacheKey: `${cacheKey}-secrets`,
          cacheExpiry: TTL_S * 1000,
          setToContext: true,
          disablePrefetch: true,
        }),
      )
    return { handler }
  }
  const powertools = (byName) => () => {
    const ssm = new SSMProvider({ awsSdkV3Client: ssmClient })
    const secrets = new SecretsProvider({ awsSdkV3Client: secretsClient })
    const handler = middy(async () => {
      if (byName) {
        await ssm.getParametersByName(Object.fromEntries(PARAMETERS.map((name) => [name, {}])), {
          maxAge: TTL_S,
        })
      } else {
        await Promise.all(PARAMETERS.map((name) => ssm.get(name, { maxAge: TTL_S })))
      }
      await Promise.all(SECRETS.map((id) => secrets.get(id, { maxAge: TTL_S })))
      return 'ok'
    })
    return { handler, read: () => ssm.get(PARAMETERS[0], { maxAge: TTL_S }) }
  }
  return {
    libraries: [
      ['@warmstart/params (paramsMiddleware)', ws],
      ['Powertools Parameters (getParametersByName + get)', powertools(true)],
      ['Powertools Parameters (get per parameter)', powertools(false)],
      ['@middy/ssm + @middy/secrets-manager', middyChain],
    ],
    bare: middy(app),
    destroy: () => {
      ssmClient.destroy()
      secretsClient.destroy()
    },
  }
}

async function measureReads(read) {
  const rounds = []
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < READS; i++) await read()
    rounds.push(Number(process.hrtime.bigint() - started) / READS)
  }
  return median(rounds)
}

async function measureInvocations(handler) {
  const rounds = []
  const n = 5_000
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await handler({}, context(i))
    rounds.push(Number(process.hrtime.bigint() - started) / n / 1000)
  }
  return median(rounds)
}

export async function run() {
  const aws = await startLocalAws({
    parameters: Object.fromEntries(PARAMETERS.map((name, i) => [name, `value-${i}`])),
    secrets: Object.fromEntries(SECRETS.map((id) => [id, `secret-of-${id}`])),
  })
  const rows = []
  let bareUs = 0
  try {
    const start = Date.UTC(2026, 0, 1)
    await withSimulatedTime(start, async (clock) => {
      const { libraries, bare, destroy } = setups(aws, clock)
      // The floor every row stands on: the same app in a Middy chain with no middleware.
      bareUs = await measureInvocations(bare)
      for (const [label, make] of libraries) {
        clock.set(start)
        const lib = make()
        aws.resetCalls()
        for (let i = 0; i < INVOCATIONS; i++) {
          clock.set(start + i * STEP_MS)
          await lib.handler({}, context(i))
        }
        const ssmCalls = aws.callCount({ service: 'ssm' })
        const secretCalls = aws.callCount({ service: 'secretsmanager' })
        const operations = [...new Set(aws.calls.map((call) => call.operation))].sort().join(', ')
        // Warm figures, every value cached (the clock stands still).
        const invocationUs = await measureInvocations(lib.handler)
        const readNs = lib.read === undefined ? undefined : await measureReads(lib.read)
        rows.push({ label, ssmCalls, secretCalls, operations, invocationUs, readNs })
      }
      destroy()
    })
  } finally {
    await aws.stop()
  }

  const windows = Math.ceil((INVOCATIONS * STEP_MS) / (TTL_S * 1000))
  const floor = windows * (Math.ceil(PARAMETERS.length / 10) + SECRETS.length)
  const ours = rows[0]
  const lines = [
    `Workload: ${PARAMETERS.length} SSM parameters and ${SECRETS.length} secrets per invocation, ${INVOCATIONS} invocations one every ${STEP_MS} ms (${(INVOCATIONS * STEP_MS) / 60000} simulated minutes), TTL ${TTL_S / 60} minutes (jitter off for warmstart, so every library has the same TTL), one environment. Calls are counted at the local endpoint. The floor with one GetParameters per 10 names and one GetSecretValue per secret is ${floor} calls (${windows} TTL windows × (2 + 2)).`,
    '',
    '| library | SSM calls | Secrets Manager calls | total | operations | warm invocation (µs, whole spec in Middy) | over a bare Middy handler (µs) | warm read (ns/op) |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${row.ssmCalls} | ${row.secretCalls} | ${row.ssmCalls + row.secretCalls} | ${row.operations} | ${row.invocationUs.toFixed(1)} | ${(row.invocationUs - bareUs).toFixed(2)} | ${row.readNs === undefined ? 'n/a (values on the context)' : row.readNs.toFixed(0)} |`,
    ),
    '',
    `The bare Middy handler (the same app, no middleware) took ${bareUs.toFixed(2)} µs per warm invocation in this run.`,
    '',
    `Ratios measured in this run: warm read, Powertools / warmstart = ${(rows[1].readNs / ours.readNs).toFixed(1)}×; warm invocation of the whole spec, Middy / warmstart = ${(rows[3].invocationUs / ours.invocationUs).toFixed(1)}×, Powertools (by name) / warmstart = ${(rows[1].invocationUs / ours.invocationUs).toFixed(1)}×.`,
    '',
    `warmstart goes under the floor for secrets: the ${SECRETS.length} secrets read in the same tick are one BatchGetSecretValue. Warm reads are median ns per \`await get(name)\` of a cached value over ${ROUNDS} rounds of ${READS.toLocaleString('en')}; warm invocations are median µs per Middy invocation with every value cached (for Powertools, its calls are made inside a Middy-wrapped handler, so every row pays Middy's own cost).`,
    '',
    'Reproduce: `node_modules/.bin/pnpm build && node bench/run.mjs params.bench`.',
  ]
  return { title: 'Parameters and secrets: remote calls and warm reads', markdown: lines.join('\n') }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { title, markdown } = await run()
  console.log(`## ${title}\n\n${markdown}`)
}

// The warm path: what each middleware chain adds to one warm invocation of a real @middy/core
// handler, next to the anchors doing the same job and to the bare handler. Every chain reads its
// values from one local SSM and Secrets Manager endpoint (startLocalAws), and every value is
// cached before timing starts: the bench checks that the endpoint saw no request while timing, so
// no remote call is ever timed. Chains are timed in interleaved rounds (each round runs every
// chain once, in a rotating order) and compared by the median of the per-round differences.
import { pathToFileURL } from 'node:url'
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { getParameter } from '@aws-lambda-powertools/parameters/ssm'
import { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import middySecretsManager from '@middy/secrets-manager'
import middySsm from '@middy/ssm'
import { awsClient, clientsMiddleware, lazy } from '@warmstart/client'
import { leakGuardMiddleware } from '@warmstart/leak-guard'
import { lifecycleMiddleware } from '@warmstart/lifecycle'
import { paramsMiddleware, secretsManager, ssmParameters } from '@warmstart/params'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import { startLocalAws, startPostgres } from '@warmstart/testing'
import { median } from './stats.mjs'

const ROUNDS = 51
const BATCH = 500
const WARMUP = 3_000
/** Every cache lives 5 minutes: the whole run takes far less, so nothing expires while timing. */
const TTL_SECONDS = 300

const PARAMETERS = {
  '/bench/api-url': 'https://api.example.test',
  '/bench/page-size': '50',
  '/bench/region-list': 'eu-west-1,eu-central-1',
}
const SECRET_ID = 'bench/api-key'
const SECRET_VALUE = 'k-0123456789abcdef'

// Middy's caches refresh themselves with a setTimeout (which never fires in a frozen Lambda): its
// clearCache() cancels those timers when the bench ends. @middy/util sits next to @middy/ssm.
const { clearCache: clearMiddyCache } = await import(
  new URL('../util/index.js', import.meta.resolve('@middy/ssm')).href
)

/** The application itself: the same function at the end of every chain. */
const app = async (event) => ({ statusCode: 200, body: event.pathParameters.orderId })

let sequence = 0
/** A new event and context per invocation, as Lambda gives them (warmstart keys its per-invocation state on the context). */
function nextInvocation() {
  sequence += 1
  const requestId = `3f1c9a2e-0000-4000-8000-${String(sequence).padStart(12, '0')}`
  const event = {
    httpMethod: 'GET',
    path: `/orders/o-${sequence}`,
    pathParameters: { orderId: `o-${sequence}` },
    headers: { authorization: `Bearer eyJhbGciOiJIUzI1NiJ9.token-${sequence}` },
    requestContext: { requestId: `api-${requestId}`, authorizer: { claims: { sub: `user-${sequence}` } } },
  }
  const context = {
    awsRequestId: requestId,
    functionName: 'warm-path-bench',
    getRemainingTimeInMillis: () => 30_000,
  }
  return [event, context]
}

async function timeBatch(handler, count) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) {
    const [event, context] = nextInvocation()
    await handler(event, context)
  }
  return Number(process.hrtime.bigint() - started) / count / 1_000
}

/** Builds every chain against the running endpoint and database. */
function buildChains(db) {
  const ssm = ssmParameters()
  const secrets = secretsManager()
  const [apiUrl, pageSize, regions] = Object.keys(PARAMETERS)
  const fetch = {
    apiUrl: ssm.ref(apiUrl),
    pageSize: ssm.ref(pageSize),
    regions: ssm.ref(regions),
    apiKey: secrets.ref(SECRET_ID),
  }
  const ssmClient = lazy(() => awsClient(SSMClient), { name: 'ssm' })
  const findings = []
  const onFinding = (found) => findings.push(...found)
  const params = () => paramsMiddleware({ fetch, setToContext: true })
  const pg = () => pgMiddleware({ db, setToContext: 'db' })
  const clients = () => clientsMiddleware({ ssm: ssmClient })
  const lifecycle = () => lifecycleMiddleware({ logger: false })
  const guard = (sampleRate) => leakGuardMiddleware({ mode: 'report', onFinding, sampleRate })
  const full = (sampleRate) =>
    middy(app).use(guard(sampleRate)).use(lifecycle()).use(params()).use(pg()).use(clients())

  const middyOptions = { cacheExpiry: TTL_SECONDS * 1_000, setToContext: true }
  const anchorsMiddy = middy(app)
    .use(middySsm({ ...middyOptions, fetchData: { apiUrl, pageSize, regions } }))
    .use(middySecretsManager({ ...middyOptions, fetchData: { apiKey: SECRET_ID } }))
  const anchorsPowertools = middy(async (event, context) => {
    const [a, b, c, key] = await Promise.all([
      getParameter(apiUrl, { maxAge: TTL_SECONDS }),
      getParameter(pageSize, { maxAge: TTL_SECONDS }),
      getParameter(regions, { maxAge: TTL_SECONDS }),
      getSecret(SECRET_ID, { maxAge: TTL_SECONDS }),
    ])
    Object.assign(context, { apiUrl: a, pageSize: b, regions: c, apiKey: key })
    return app(event, context)
  })

  const empty = () => ({ before: async () => {}, after: async () => {}, onError: async () => {} })
  const emptyFive = middy(app)
  for (let i = 0; i < 5; i++) emptyFive.use(empty())

  const chains = [
    { id: 'bare', label: 'bare Middy handler (no middleware)', handler: middy(app) },
    {
      id: 'empty-one',
      label: 'one empty middleware `{ before, after, onError }` (what Middy itself charges)',
      handler: middy(app).use(empty()),
    },
    {
      id: 'empty-five',
      label: "five empty middlewares (Middy's own cost of a five-middleware chain)",
      handler: emptyFive,
    },
    {
      id: 'full',
      label: 'warmstart: leak guard (sampleRate 0) + lifecycle + params (3 SSM, 1 secret) + pg + clients',
      handler: full(0),
      check: ['apiUrl', 'apiKey', 'db'],
    },
    {
      id: 'full-sampled',
      label: 'the same, leak guard at sampleRate 0.01 (one check per 100 invocations, amortised)',
      handler: full(0.01),
      check: ['apiUrl', 'apiKey', 'db'],
    },
    {
      id: 'params',
      label: 'warmstart paramsMiddleware alone (3 SSM, 1 secret)',
      handler: middy(app).use(params()),
      check: ['apiUrl', 'apiKey'],
    },
    {
      id: 'middy',
      label: '@middy/ssm + @middy/secrets-manager (3 SSM, 1 secret, cacheExpiry 5 min)',
      handler: anchorsMiddy,
      check: ['apiUrl', 'apiKey'],
    },
    {
      id: 'powertools',
      label: 'Powertools getParameter × 3 + getSecret in the handler (maxAge 300 s)',
      handler: anchorsPowertools,
      check: ['apiUrl', 'apiKey'],
    },
    {
      id: 'leak-guard',
      label: 'leakGuardMiddleware alone (sampleRate 0)',
      handler: middy(app).use(guard(0)),
    },
    {
      id: 'lifecycle',
      label: 'lifecycleMiddleware alone (logger: false)',
      handler: middy(app).use(lifecycle()),
    },
    {
      id: 'pg',
      label: 'pgMiddleware alone (warm connection, no round trip)',
      handler: middy(app).use(pg()),
      check: ['db'],
    },
    {
      id: 'clients',
      label: 'clientsMiddleware alone (one lazy SSM client)',
      handler: middy(app).use(clients()),
    },
  ]
  return { chains, findings }
}

/** One invocation whose context is inspected, so each chain is known to deliver what it claims. */
async function verify(chain) {
  if (chain.check === undefined) return
  const [event, context] = nextInvocation()
  const result = await chain.handler(event, context)
  if (result?.statusCode !== 200) throw new Error(`${chain.id}: the handler did not answer`)
  for (const key of chain.check) {
    if (context[key] === undefined) throw new Error(`${chain.id}: context.${key} was not set`)
  }
  if (context.apiKey !== undefined && context.apiKey !== SECRET_VALUE)
    throw new Error(`${chain.id}: wrong secret`)
  if (context.apiUrl !== undefined && context.apiUrl !== PARAMETERS['/bench/api-url'])
    throw new Error(`${chain.id}: wrong parameter`)
}

export async function run() {
  const aws = await startLocalAws({ parameters: PARAMETERS, secrets: { [SECRET_ID]: SECRET_VALUE } })
  const savedEnv = Object.fromEntries(Object.keys(aws.env).map((name) => [name, process.env[name]]))
  Object.assign(process.env, aws.env)
  const postgres = await startPostgres()
  const db = pgConnection({ config: postgres.config })
  try {
    const { chains, findings } = buildChains(db)
    // Warm every cache and connection, then make sure each chain delivers its values.
    for (const chain of chains) await timeBatch(chain.handler, WARMUP)
    for (const chain of chains) await verify(chain)
    const callsBeforeTiming = aws.calls.length

    const samples = new Map(chains.map((chain) => [chain.id, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < chains.length; i++) {
        const chain = chains[(round + i) % chains.length]
        globalThis.gc?.()
        samples.get(chain.id).push(await timeBatch(chain.handler, BATCH))
      }
    }
    const remoteCalls = aws.calls.length - callsBeforeTiming
    if (remoteCalls !== 0)
      throw new Error(`${remoteCalls} remote call(s) happened while timing: a cache expired`)
    if (findings.length > 0)
      throw new Error(`the leak guard reported ${findings.length} finding(s) in the bench handler`)

    const bare = samples.get('bare')
    const rows = chains.map((chain) => {
      const own = samples.get(chain.id)
      return {
        ...chain,
        median: median(own),
        added: median(own.map((value, round) => value - bare[round])),
      }
    })
    return {
      title: 'Warm path: what each middleware chain adds to a warm invocation',
      markdown: render(rows),
    }
  } finally {
    await db.end()
    await postgres.stop()
    await aws.stop()
    clearMiddyCache()
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

function render(rows) {
  const byId = Object.fromEntries(rows.map((row) => [row.id, row]))
  const us = (value) => `${value.toFixed(2)} µs`
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a')
  const table = [
    '| chain | median per invocation | added to the bare handler (median of per-round differences) |',
    '| --- | ---: | ---: |',
    ...rows.map((row) => `| ${row.label} | ${us(row.median)} | ${row.id === 'bare' ? '—' : us(row.added)} |`),
  ]
  const full = byId.full.added
  const params = byId.params.added
  const singles = ['leak-guard', 'lifecycle', 'params', 'pg', 'clients']
  const sumOfSingles = singles.reduce((sum, id) => sum + byId[id].added, 0)
  const summary = [
    `- The full warmstart chain adds **${us(full)}** per warm invocation (goal: under 5 µs): ${full < 5 ? 'met' : 'not met'}. With the leak guard sampling 1% of invocations, the average is ${us(byId['full-sampled'].added)}.`,
    `- For the same job (3 SSM parameters and 1 secret on the context), paramsMiddleware adds ${us(params)}; @middy/ssm + @middy/secrets-manager add ${us(byId.middy.added)} (warmstart / Middy: ${ratio(params, byId.middy.added)}); Powertools in the handler adds ${us(byId.powertools.added)} (warmstart / Powertools: ${ratio(params, byId.powertools.added)}).`,
    `- The full chain against the anchors, which do less (no connection, no lifecycle, no leak guard): ${ratio(full, byId.middy.added)} of Middy's, ${ratio(full, byId.powertools.added)} of Powertools'.`,
    `- Middy itself charges ${us(byId['empty-one'].added)} for one empty middleware and ${us(byId['empty-five'].added)} for five: the full chain's own code adds ${us(full - byId['empty-five'].added)} on top of Middy's five-middleware cost.`,
    `- The middlewares alone add ${singles.map((id) => `${id} ${us(byId[id].added)}`).join(', ')}: ${us(sumOfSingles)} in sum, against ${us(full)} for the chain (each one alone pays the per-invocation bookkeeping of \`trackInvocation\` in @warmstart/core, which a chain pays once).`,
  ]
  return [
    `Each figure is the time of one warm invocation of a \`@middy/core\` 6.4.5 handler: a new event and context per invocation (with \`getRemainingTimeInMillis\`, so Middy arms its early-timeout timer in every chain alike), ${ROUNDS} interleaved rounds of ${BATCH.toLocaleString('en')} sequential invocations per chain after ${WARMUP.toLocaleString('en')} warm-up invocations. Every chain reads from one \`startLocalAws()\` endpoint and every value is cached before timing (the endpoint saw no request while timing); the pg connection is open and warm (\`startPostgres()\`), and the handler sends no query, so a warm invocation makes no round trip (with the default \`validateAfterIdle: '5s'\` a connection idle that long is checked once: at most one round trip per 5 s of this run). Nobody listens to warmstart's events; \`lifecycleMiddleware\` logs nothing (\`logger: false\`: its default writes one JSON line per invocation to stdout).`,
    '',
    ...table,
    '',
    ...summary,
    '',
    'Reproduce: `node_modules/.bin/pnpm build && node bench/warm-path.bench.mjs`.',
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log((await run()).markdown)
}

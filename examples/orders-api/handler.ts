import middy from '@middy/core'
import { leakGuardMiddleware } from '@warmstart/leak-guard'
import { lifecycleMiddleware } from '@warmstart/lifecycle'
import { type ParamsOf, paramsMiddleware, secretsManager, ssmParameters } from '@warmstart/params'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda'
import type { Client } from 'pg'
import { jsonLogger } from '../shared/json-logger.js'
import { rdsSecretConfig } from '../shared/rds-secret.js'
import { type OrdersConfig, settings } from './config.js'
import { createOrder, listOrders, type OrderLine } from './orders.js'

// --- init: runs once per execution environment; nothing here makes a remote call ---------------

const ssm = ssmParameters({ ttl: settings.configTtl, logger: jsonLogger })
// The credentials are read at connect only (see rdsSecretConfig for what happens on a rotation).
const secrets = secretsManager({ ttl: '1h', logger: jsonLogger })

const db = pgConnection({
  name: 'orders',
  config: rdsSecretConfig(secrets, settings.dbSecretId, {
    application_name: 'orders-api',
    // A query stuck on a lock fails the invocation instead of running into the Lambda timeout.
    statement_timeout: 5_000,
  }),
  closeOnShutdown: true,
  logger: jsonLogger,
})

const fetch = { config: ssm.ref<OrdersConfig>(settings.configParameter, { transform: 'json' }) }

/** What the handler finds on its context once the middlewares have run. */
type OrdersContext = Context & ParamsOf<typeof fetch> & { pg: Client }
type Event = APIGatewayProxyEventV2WithJWTAuthorizer
type Result = APIGatewayProxyStructuredResultV2

// --- the handler ----------------------------------------------------------------------------------

async function app(event: Event, context: OrdersContext): Promise<Result> {
  const customerId = event.requestContext.authorizer.jwt.claims.sub
  if (typeof customerId !== 'string') return reply(401, { error: 'no subject in the token' })
  const { config, pg } = context
  switch (event.routeKey) {
    case 'GET /orders':
      return reply(200, { orders: await listOrders(pg, config, customerId) })
    case 'POST /orders': {
      if (!config.features.acceptOrders) return reply(503, { error: 'orders are paused' })
      const lines = parseLines(event.body, config.maxLinesPerOrder)
      if (typeof lines === 'string') return reply(400, { error: lines })
      const outcome = await createOrder(pg, config, customerId, lines)
      if (!outcome.created) return reply(409, { error: outcome.reason, sku: outcome.sku })
      return reply(201, { order: outcome.order })
    }
    default:
      return reply(404, { error: `no route ${event.routeKey}` })
  }
}

/** The order's lines, or what is wrong with the body. */
function parseLines(body: string | undefined, maxLines: number): OrderLine[] | string {
  let parsed: unknown
  try {
    parsed = JSON.parse(body ?? '')
  } catch {
    return 'the body must be JSON'
  }
  const lines = (parsed as { lines?: unknown } | null)?.lines
  if (!Array.isArray(lines) || lines.length === 0 || lines.length > maxLines) {
    return `lines must be an array of 1 to ${maxLines} { sku, quantity }`
  }
  const valid = lines.every(
    (line: Partial<OrderLine>) =>
      typeof line?.sku === 'string' && Number.isInteger(line.quantity) && (line.quantity ?? 0) > 0,
  )
  if (!valid) return 'each line needs a sku (string) and a quantity (integer > 0)'
  if (new Set(lines.map((line: OrderLine) => line.sku)).size !== lines.length)
    return 'each sku may appear once'
  return lines.map(({ sku, quantity }: OrderLine) => ({ sku, quantity }))
}

function reply(statusCode: number, body: unknown): Result {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

// The leak guard comes first so that it checks last, after every other middleware has finished;
// lifecycle next, so the duration it logs covers the rest of the chain.
export const handler = middy<Event, Result, Error, OrdersContext>(app)
  .use(leakGuardMiddleware({ mode: 'warn', sampleRate: settings.leakGuardSampleRate, logger: jsonLogger }))
  .use(lifecycleMiddleware({ logger: jsonLogger }))
  .use(paramsMiddleware({ fetch }))
  .use(pgMiddleware({ db, setToContext: 'pg' }))

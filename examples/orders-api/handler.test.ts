import {
  type Invocation,
  type LocalAws,
  type Simulation,
  simulateLambda,
  startLocalAws,
  startPostgres,
  type TestPostgres,
} from '@warmstart/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpApiEvent } from '../shared/api-gateway-event.mjs'
import { bundleForTest, type TestBundle } from '../shared/test-bundle.js'
import {
  CONFIG_PARAMETER,
  createOrdersSchema,
  DB_SECRET_ID,
  dbSecret,
  ordersConfig,
  ordersEnvironment,
} from './fixtures.mjs'

let postgres: TestPostgres
let aws: LocalAws
let bundle: TestBundle
let lambda: Simulation

beforeAll(async () => {
  ;[postgres, bundle] = await Promise.all([
    startPostgres(),
    bundleForTest(new URL('./handler.ts', import.meta.url)),
  ])
  await createOrdersSchema(postgres)
  aws = await startLocalAws({
    parameters: { [CONFIG_PARAMETER]: JSON.stringify(ordersConfig) },
    secrets: { [DB_SECRET_ID]: dbSecret(postgres.config) },
  })
  lambda = simulateLambda({
    handler: bundle.handler,
    // Every invocation checked for leaks; the config cached for 1 s so a test can see it change.
    env: ordersEnvironment(aws, { LEAK_GUARD_SAMPLE_RATE: '1', CONFIG_TTL: '1s' }),
    timeout: '10s',
  })
})

afterAll(async () => {
  await lambda?.stop()
  await Promise.all([aws?.stop(), postgres?.stop(), bundle?.remove()])
})

const customer = 'customer-5f1d7a'

function post(body: unknown, subject = customer) {
  return httpApiEvent({ method: 'POST', path: '/orders', subject, body })
}

function get(subject = customer) {
  return httpApiEvent({ method: 'GET', path: '/orders', subject })
}

/** The HTTP response the handler returned, with its body parsed. */
function response(invocation: Invocation): { statusCode: number; body: Record<string, unknown> } {
  expect(invocation.error).toBeUndefined()
  const { statusCode, body } = invocation.result as { statusCode: number; body: string }
  return { statusCode, body: JSON.parse(body) }
}

function leakWarnings(invocations: readonly Invocation[]): string[] {
  return invocations.flatMap((invocation) => invocation.logs.filter((line) => line.includes('leak-guard')))
}

async function stockOf(sku: string): Promise<number> {
  const { rows } = await postgres.admin.query('SELECT stock FROM shop.products WHERE sku = $1', [sku])
  return rows[0].stock
}

const seen: Invocation[] = []
async function invoke(event: unknown, environment?: string): Promise<Invocation> {
  const invocation = await lambda.invoke(event, environment === undefined ? undefined : { environment })
  seen.push(invocation)
  return invocation
}

describe('orders-api, bundled, under simulateLambda', () => {
  it('creates an order in a transaction on a cold start, lists it warm, with no remote call when warm', async () => {
    const created = await invoke(
      post({
        lines: [
          { sku: 'kettle-01', quantity: 2 },
          { sku: 'mug-03', quantity: 1 },
        ],
      }),
    )
    expect(created.coldStart).toBe(true)
    expect(response(created)).toMatchObject({
      statusCode: 201,
      body: { order: { totalCents: 2 * 3_499 + 899, lines: [{ sku: 'kettle-01' }, { sku: 'mug-03' }] } },
    })
    const calls = aws.calls.length
    const listed = await invoke(get())
    expect(listed).toMatchObject({ coldStart: false, environment: created.environment })
    expect(response(listed).body.orders).toMatchObject([
      { totalCents: 7_897, lines: [{ quantity: 2 }, { quantity: 1 }] },
    ])
    expect(aws.calls.length).toBe(calls)
    expect(await postgres.connectionCount({ applicationName: 'orders-api' })).toBe(1)
    // Another customer sees none of them.
    expect(response(await invoke(get('customer-0b93e4'))).body.orders).toEqual([])
  })

  it('rolls the whole order back when one line is out of stock, or unknown', async () => {
    const stock = await stockOf('kettle-01')
    const outOfStock = await invoke(
      post({
        lines: [
          { sku: 'kettle-01', quantity: 1 },
          { sku: 'last-one-04', quantity: 2 },
        ],
      }),
    )
    expect(response(outOfStock)).toEqual({
      statusCode: 409,
      body: { error: 'out-of-stock', sku: 'last-one-04' },
    })
    const unknown = await invoke(
      post({
        lines: [
          { sku: 'kettle-01', quantity: 1 },
          { sku: 'toaster-99', quantity: 1 },
        ],
      }),
    )
    expect(response(unknown)).toEqual({ statusCode: 409, body: { error: 'unknown-sku', sku: 'toaster-99' } })
    expect(await stockOf('kettle-01')).toBe(stock)
    const { rows } = await postgres.admin.query('SELECT count(*)::int AS n FROM shop.orders')
    expect(rows[0].n).toBe(1)
  })

  it('answers bad requests without touching the database', async () => {
    const cases: [unknown, string][] = [
      [post(undefined), 'the body must be JSON'],
      [post({ lines: [] }), 'lines must be an array of 1 to 10 { sku, quantity }'],
      [
        post({ lines: [{ sku: 'mug-03', quantity: 0 }] }),
        'each line needs a sku (string) and a quantity (integer > 0)',
      ],
      [
        post({
          lines: [
            { sku: 'mug-03', quantity: 1 },
            { sku: 'mug-03', quantity: 2 },
          ],
        }),
        'each sku may appear once',
      ],
    ]
    for (const [event, error] of cases)
      expect(response(await invoke(event))).toEqual({ statusCode: 400, body: { error } })
    const noSubject = get()
    delete (noSubject.requestContext.authorizer.jwt.claims as Record<string, unknown>).sub
    expect(response(await invoke(noSubject)).statusCode).toBe(401)
    const unknownRoute = httpApiEvent({ method: 'DELETE', path: '/orders', subject: customer })
    expect(response(await invoke(unknownRoute))).toEqual({
      statusCode: 404,
      body: { error: 'no route DELETE /orders' },
    })
  })

  it('survives the database killing its connections while the environments are frozen', async () => {
    await lambda.burst([get(), get(), get()])
    expect(await postgres.connectionCount({ applicationName: 'orders-api' })).toBe(3)
    await lambda.wait(100)
    expect(await postgres.terminateBackends({ applicationName: 'orders-api' })).toBe(3)
    const calls = aws.callCount({ service: 'secretsmanager' })
    const after = await lambda.burst([get(), get(), get()])
    expect(after.map((invocation) => response(invocation).statusCode)).toEqual([200, 200, 200])
    expect(after.every((invocation) => !invocation.coldStart)).toBe(true)
    expect(await postgres.connectionCount({ applicationName: 'orders-api' })).toBe(3)
    // The cached credentials were good: reconnecting needed no secret.
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(calls)
    seen.push(...after)
  })

  it('logs in with the rotated password after a rotation, fetching the secret once per environment', async () => {
    const rotated = `${postgres.config.password}-rotated`
    await postgres.setPassword(postgres.config.user, rotated)
    aws.rotateSecret(DB_SECRET_ID, dbSecret(postgres.config, rotated))
    // Sessions outlive a password change: make every environment log in again.
    await postgres.terminateBackends({ applicationName: 'orders-api' })
    const calls = aws.callCount({ service: 'secretsmanager' })
    const environments = lambda.environments().map((environment) => environment.id)
    for (const environment of environments) {
      expect(response(await invoke(get(), environment)).statusCode).toBe(200)
    }
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(calls + environments.length)
    await postgres.setPassword(postgres.config.user, postgres.config.password)
    aws.rotateSecret(DB_SECRET_ID, dbSecret(postgres.config))
  })

  it('follows the config in SSM once its TTL has passed, through a throttled SSM', async () => {
    const environment = lambda.environments()[0]!.id
    aws.putParameter(CONFIG_PARAMETER, JSON.stringify({ ...ordersConfig, features: { acceptOrders: false } }))
    aws.injectFault({ service: 'ssm', kind: 'throttle', times: 2 })
    await lambda.wait(1_200)
    const calls = aws.callCount({ service: 'ssm' })
    const paused = await invoke(post({ lines: [{ sku: 'mug-03', quantity: 1 }] }), environment)
    expect(response(paused)).toEqual({ statusCode: 503, body: { error: 'orders are paused' } })
    // Two throttled requests, retried by the provider's own retry policy (no SDK here), then the one that answered.
    expect(aws.callCount({ service: 'ssm' })).toBe(calls + 3)
    aws.putParameter(CONFIG_PARAMETER, JSON.stringify(ordersConfig))
  })

  it('leaves no request data behind: the leak guard checked every invocation and found nothing', () => {
    expect(seen.length).toBeGreaterThan(15)
    // The logs are there (lifecycle's line ends every invocation), and none is the guard's.
    expect(
      seen.every((invocation) => invocation.logs.some((line) => line.includes('"lifecycle.invoke"'))),
    ).toBe(true)
    expect(leakWarnings(seen)).toEqual([])
    expect(seen.every((invocation) => invocation.ok)).toBe(true)
  })
})

import { readFile } from 'node:fs/promises'
import {
  type Invocation,
  type LocalAws,
  type Simulation,
  simulateLambda,
  startLocalAws,
  startPostgres,
  type TestPostgres,
} from '@warmstart/testing'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForTest, type TestBundle } from '../shared/test-bundle.js'

let postgres: TestPostgres
let aws: LocalAws
let bundle: TestBundle
let lambda: Simulation

const SECRET_ID = 'payments/db'

beforeAll(async () => {
  ;[postgres, bundle] = await Promise.all([
    startPostgres(),
    bundleForTest(new URL('./handler.ts', import.meta.url)),
  ])
  const { admin, config } = postgres
  await admin.query(await readFile(new URL('./schema.sql', import.meta.url), 'utf8'))
  await admin.query(
    `GRANT SELECT ON fx_rates TO "${config.user}"; GRANT SELECT, INSERT ON payments TO "${config.user}"`,
  )
  // Per 1e6: 1 EUR cent = 1 EUR cent, 1 USD cent = 0.92 EUR cent.
  await admin.query("INSERT INTO fx_rates VALUES ('EUR', 1000000), ('USD', 920000)")
  const secret = {
    username: config.user,
    password: config.password,
    host: config.host,
    port: config.port,
    dbname: config.database,
  }
  aws = await startLocalAws({ secrets: { [SECRET_ID]: JSON.stringify(secret) } })
  lambda = simulateLambda({
    handler: bundle.handler,
    env: { ...aws.env, DB_SECRET_ID: SECRET_ID },
    timeout: '10s',
  })
})

afterAll(async () => {
  await lambda?.stop()
  await Promise.all([aws?.stop(), postgres?.stop(), bundle?.remove()])
})

let sequence = 0
function message(body: unknown) {
  sequence += 1
  return {
    messageId: `0d7e1f3a-${String(sequence).padStart(4, '0')}-4c2b-9f1e-payments`,
    receiptHandle: `handle-${sequence}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:payments',
    awsRegion: 'eu-west-1',
  }
}

const payment = (paymentId: string, amountCents: number, currency = 'EUR') => ({
  paymentId,
  orderId: 42,
  amountCents,
  currency,
})

function failures(invocation: Invocation): string[] {
  expect(invocation.error).toBeUndefined()
  return (invocation.result as SQSBatchResponse).batchItemFailures.map((failure) => failure.itemIdentifier)
}

async function payments(): Promise<Record<string, string>> {
  const { rows } = await postgres.admin.query(
    'SELECT payment_id, amount_eur_cents FROM payments ORDER BY payment_id',
  )
  return Object.fromEntries(rows.map((row) => [row.payment_id, row.amount_eur_cents]))
}

describe('sqs-consumer, bundled, under simulateLambda', () => {
  it('reports only the messages it could not process, and writes the others', async () => {
    const batch = [
      message(payment('pay-001', 1_000)),
      message('{not json'),
      message(payment('pay-002', 2_500, 'USD')),
      message(payment('pay-003', 700, 'XYZ')),
      message({ ...payment('pay-004', 1), amountCents: -5 }),
    ]
    const invocation = await lambda.invoke({ Records: batch } satisfies SQSEvent)
    expect(failures(invocation)).toEqual([batch[1]!.messageId, batch[3]!.messageId, batch[4]!.messageId])
    expect(await payments()).toEqual({ 'pay-001': '1000', 'pay-002': '2300' })
    expect(invocation.logs.join('\n')).toContain('"written":2,"duplicate":0,"failed":3')
    // What is logged about a failure names the message, never its body.
    expect(invocation.logs.join('\n')).not.toContain('pay-003')
  })

  it('writes nothing twice when messages are delivered again, in the same batch or a later one', async () => {
    const again = message(payment('pay-001', 1_000))
    const fresh = message(payment('pay-005', 300))
    const invocation = await lambda.invoke({ Records: [again, fresh, message(payment('pay-005', 300))] })
    expect(failures(invocation)).toEqual([])
    expect(invocation.logs.join('\n')).toContain('"written":1,"duplicate":2,"failed":0')
    expect(Object.keys(await payments())).toEqual(['pay-001', 'pay-002', 'pay-005'])
  })

  it('keeps exchange rates for the environment: a changed rate is read by new environments only, within the TTL', async () => {
    await postgres.admin.query("UPDATE fx_rates SET eur_per_unit = 900000 WHERE currency = 'USD'")
    const warm = await lambda.invoke({ Records: [message(payment('pay-006', 1_000, 'USD'))] })
    expect(warm.coldStart).toBe(false)
    const [cold] = await lambda
      .burst([
        { Records: [message(payment('pay-007', 1_000, 'USD'))] },
        { Records: [message(payment('pay-008', 1_000, 'USD'))] },
      ])
      .then((pair) => pair.filter((invocation) => invocation.coldStart))
    expect(cold).toBeDefined()
    const written = await payments()
    expect(written['pay-006']).toBe('920')
    expect([written['pay-007'], written['pay-008']]).toContain('900')
  })

  it('goes on after the database dropped its connections while the environments were frozen', async () => {
    await lambda.wait(100)
    expect(await postgres.terminateBackends({ applicationName: 'payments-consumer' })).toBeGreaterThan(0)
    const batches = lambda
      .environments()
      .map((environment, index) =>
        lambda.invoke(
          { Records: [message(payment(`pay-1${index}0`, 100))] },
          { environment: environment.id },
        ),
      )
    for (const invocation of await Promise.all(batches)) expect(failures(invocation)).toEqual([])
    expect(Object.keys(await payments())).toContain('pay-100')
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(lambda.environments().length)
  })
})

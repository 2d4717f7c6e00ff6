import middy from '@middy/core'
import { lifecycleMiddleware } from '@warmstart/lifecycle'
import { boundedLru } from '@warmstart/lru'
import { secretsManager } from '@warmstart/params'
import { pgConnection, pgMiddleware } from '@warmstart/pg'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { jsonLogger } from '../shared/json-logger.js'
import { rdsSecretConfig } from '../shared/rds-secret.js'
import { parsePayment } from './payment.js'

// --- init: once per execution environment ---------------------------------------------------------

const secrets = secretsManager({ ttl: '1h', logger: jsonLogger })
const db = pgConnection({
  name: 'payments',
  config: rdsSecretConfig(secrets, process.env.DB_SECRET_ID ?? 'payments/db', {
    application_name: 'payments-consumer',
  }),
  closeOnShutdown: true,
  logger: jsonLogger,
})

// Exchange rates are the same for every message and change once a day: a bounded cache per
// environment saves a query per message. (Nothing from one message is kept: see leaky-handler.)
const rates = boundedLru<string, bigint>({ max: 200, ttl: '5m', name: 'fx-rates' })

class UnknownCurrencyError extends Error {
  override name = 'UnknownCurrencyError'
}

async function eurPerUnit(currency: string): Promise<bigint> {
  return rates.getOrLoad(currency, async () => {
    const { rows } = await db.query<{ eur_per_unit: string }>(
      'SELECT eur_per_unit FROM fx_rates WHERE currency = $1',
      [currency],
      { idempotent: true },
    )
    if (rows.length === 0) throw new UnknownCurrencyError(`no exchange rate for ${currency}`)
    return BigInt(rows[0]!.eur_per_unit)
  })
}

/** Writes one payment, once: a message delivered again (SQS is at least once) changes nothing. */
async function record(message: SQSRecord): Promise<'written' | 'duplicate'> {
  const payment = parsePayment(message.body)
  if (typeof payment === 'string') throw new Error(`invalid message: ${payment}`)
  const eurCents = (BigInt(payment.amountCents) * (await eurPerUnit(payment.currency))) / 1_000_000n
  const { rowCount } = await db.query(
    `INSERT INTO payments (payment_id, order_id, amount_cents, currency, amount_eur_cents, message_id)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_id) DO NOTHING`,
    [
      payment.paymentId,
      payment.orderId,
      payment.amountCents,
      payment.currency,
      eurCents.toString(),
      message.messageId,
    ],
    // Safe to send again on a new connection if the old one died under it: ON CONFLICT makes it idempotent.
    { idempotent: true },
  )
  return rowCount === 1 ? 'written' : 'duplicate'
}

/**
 * Each message on its own: one that fails is reported in `batchItemFailures` (the event source
 * mapping needs `ReportBatchItemFailures`), so SQS retries it alone and deletes the others.
 */
async function app(event: SQSEvent, _context: Context): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = []
  const outcomes = { written: 0, duplicate: 0, failed: 0 }
  for (const message of event.Records) {
    try {
      outcomes[await record(message)] += 1
    } catch (error) {
      outcomes.failed += 1
      failures.push({ itemIdentifier: message.messageId })
      // The error's name and message only: never the message body, which may hold personal data.
      jsonLogger.warn('payment not recorded', { messageId: message.messageId, error: String(error) })
    }
  }
  jsonLogger.info('batch done', { ...outcomes })
  return { batchItemFailures: failures }
}

export const handler = middy<SQSEvent, SQSBatchResponse>(app)
  .use(lifecycleMiddleware({ logger: jsonLogger }))
  .use(pgMiddleware({ db }))

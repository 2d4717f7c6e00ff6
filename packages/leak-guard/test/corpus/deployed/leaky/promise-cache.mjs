// In-flight lookups shared between callers, kept once settled: the settled value holds the order.
import { deployed } from '../deployed.mjs'

const lookups = new Map()

export const handler = deployed(async (event) => {
  const { orderId } = JSON.parse(event.Records[0].body)
  lookups.set('latest', Promise.resolve({ orderId, status: 'paid' }))
  const order = await lookups.get('latest')
  return { batchItemFailures: [], status: order.status }
})

// A cache of fixed size: one entry in, the oldest out, so its size is the same after every call.
import { deployed } from '../deployed.mjs'

const SIZE = 100
const quotes = new Map(Array.from({ length: SIZE }, (_, i) => [`warmup-${i}`, { price: i }]))

export const handler = deployed(async (event) => {
  const { orderId } = event.pathParameters
  quotes.delete(quotes.keys().next().value)
  quotes.set(orderId, { price: 1299 })
  return { statusCode: 200, body: String(quotes.size) }
})

// Configuration cached by parameter name.
import { deployed } from '../deployed.mjs'

const config = new Map()

export const handler = deployed(async () => {
  if (!config.has('/orders/flags')) config.set('/orders/flags', { newCheckout: true, rollout: 0.25 })
  return { statusCode: 200, body: JSON.stringify(config.get('/orders/flags')) }
})

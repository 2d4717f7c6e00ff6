// The last upstream error kept, with nothing of the request in it.
import { deployed } from '../deployed.mjs'

let lastUpstreamError

export const handler = deployed(async () => {
  lastUpstreamError = new Error('inventory service answered 503')
  return { statusCode: 503, body: lastUpstreamError.message }
})

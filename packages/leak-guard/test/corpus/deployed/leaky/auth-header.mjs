// The caller's authorization header, kept to call a downstream service "later".
import { deployed } from '../deployed.mjs'

let downstreamAuth

export const handler = deployed(async (event) => {
  downstreamAuth = event.headers.authorization
  return { statusCode: 200, body: String(downstreamAuth.length) }
})

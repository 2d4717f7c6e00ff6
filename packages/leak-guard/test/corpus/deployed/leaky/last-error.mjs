// The last error kept for a health endpoint; its message names the caller.
import { deployed } from '../deployed.mjs'

// biome-ignore lint/correctness/noUnusedVariables: a leak on purpose
let lastError

export const handler = deployed(async (event) => {
  const { email } = event.requestContext.authorizer.jwt.claims
  lastError = new Error(`payment declined for ${email}`)
  return { statusCode: 402, body: 'declined' }
})

// Compiled patterns used on request values, never given them to keep.
import { deployed } from '../deployed.mjs'

const patterns = { email: /^[^@\s]+@[^@\s]+$/, orderId: /^ord_[0-9a-f]+$/ }

export const handler = deployed(async (event) => {
  const valid = patterns.email.test(event.requestContext.authorizer.jwt.claims.email)
  return { statusCode: valid ? 200 : 400, body: String(patterns.orderId.test(event.pathParameters.orderId)) }
})

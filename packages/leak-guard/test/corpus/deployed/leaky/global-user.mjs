// The classic: the user on globalThis.
import { deployed } from '../deployed.mjs'

export const handler = deployed(async (event) => {
  globalThis.currentUser = { id: event.requestContext.authorizer.jwt.claims.sub }
  return { statusCode: 200, body: 'ok' }
})

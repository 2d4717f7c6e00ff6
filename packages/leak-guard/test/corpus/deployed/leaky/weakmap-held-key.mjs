// A WeakMap whose keys are kept alive elsewhere: its entries are strong in effect.
import { deployed } from '../deployed.mjs'

const sessions = []
const sessionData = new WeakMap()

export const handler = deployed(async (event) => {
  const session = { startedAt: sessions.length }
  sessions.push(session)
  sessionData.set(session, { user: event.requestContext.authorizer.jwt.claims.sub })
  return { statusCode: 200, body: 'ok' }
})

// Application state nested a few levels deep.
import { deployed } from '../deployed.mjs'

const state = { session: { current: { user: { email: '' } }, started: 0 } }

export const handler = deployed(async (event) => {
  state.session.current.user = { email: event.requestContext.authorizer.jwt.claims.email }
  return { statusCode: 200, body: 'ok' }
})

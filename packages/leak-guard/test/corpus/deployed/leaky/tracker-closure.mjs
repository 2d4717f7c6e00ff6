// A tracker made by a factory: the last user lives in the factory's closure.
import { deployed } from '../deployed.mjs'

function makeTracker() {
  let lastUser
  return (user) => {
    const previous = lastUser
    lastUser = user
    return previous !== user
  }
}

const track = makeTracker()

export const handler = deployed(async (event) => {
  const changed = track(event.requestContext.authorizer.jwt.claims.sub)
  return { statusCode: 200, body: String(changed) }
})

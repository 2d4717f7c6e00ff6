// A module-level cache of profiles keyed by the caller's user id, never evicted.
import { deployed } from '../deployed.mjs'

const profiles = new Map()

export const handler = deployed(async (event) => {
  const { sub, email } = event.requestContext.authorizer.jwt.claims
  if (!profiles.has(sub)) profiles.set(sub, { email, plan: 'pro' })
  return { statusCode: 200, body: JSON.stringify(profiles.get(sub)) }
})

// A per-tenant boundedLru declared as request-keyed (its keys are fine), whose values carry the
// caller's email: the values are still a leak.
import { boundedLru } from '@warmstart/lru'
import { deployed } from '../deployed.mjs'

const byTenant = boundedLru({ name: 'tenant-carts', max: 500, requestKeyed: true })

export const handler = deployed(async (event) => {
  const claims = event.requestContext.authorizer.jwt.claims
  byTenant.set(claims['custom:tenant'], { lastBuyer: claims.email, items: 2 })
  return { statusCode: 200, body: 'ok' }
})

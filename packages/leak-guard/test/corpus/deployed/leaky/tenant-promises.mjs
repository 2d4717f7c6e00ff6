// A never-evicted Map of promises keyed by the tenant from the caller's custom claim.
import { deployed } from '../deployed.mjs'

const settingsByTenant = new Map()

export const handler = deployed(async (event) => {
  const tenant = event.requestContext.authorizer.jwt.claims['custom:tenant']
  if (!settingsByTenant.has(tenant)) settingsByTenant.set(tenant, Promise.resolve({ currency: 'EUR' }))
  const settings = await settingsByTenant.get(tenant)
  return { statusCode: 200, body: settings.currency }
})

// A per-tenant configuration cache declared as request-keyed: its keys are tenants on purpose, and
// its values are the same for every caller of a tenant.
import { boundedLru } from '@warmstart/lru'
import { deployed } from '../deployed.mjs'

const tenantConfig = boundedLru({ name: 'tenant-config', max: 500, requestKeyed: true })

export const handler = deployed(async (event) => {
  const tenant = event.requestContext.authorizer.jwt.claims['custom:tenant']
  if (!tenantConfig.has(tenant)) tenantConfig.set(tenant, { currency: 'EUR', locale: 'de-DE' })
  return { statusCode: 200, body: tenantConfig.get(tenant).currency }
})

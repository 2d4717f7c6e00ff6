// A long-lived HTTP client whose default headers get the tenant of the caller's custom claim.
import { deployed } from '../deployed.mjs'

class HttpClient {
  defaults = { baseURL: 'https://billing.internal.example.com', headers: { accept: 'application/json' } }
}

const billing = new HttpClient()

export const handler = deployed(async (event) => {
  billing.defaults.headers['x-tenant'] = event.requestContext.authorizer.jwt.claims['custom:tenant']
  return { statusCode: 200, body: 'ok' }
})

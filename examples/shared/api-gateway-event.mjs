// HTTP API (API Gateway v2) events as a JWT authorizer passes them to the function: the route, the
// caller's bearer token in the headers and its verified claims in requestContext.
import { randomUUID } from 'node:crypto'

const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A token shaped like a Cognito access token (unsigned: the authorizer already checked it). */
export function bearerToken(subject) {
  const header = base64url({ alg: 'RS256', kid: 'example' })
  const payload = base64url({ sub: subject, scope: 'orders/read orders/write', token_use: 'access' })
  return `${header}.${payload}.${Buffer.from(`signature-of-${subject}`).toString('base64url')}`
}

export function httpApiEvent({ method, path, subject, body }) {
  const now = Date.now()
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${bearerToken(subject)}`,
      'content-type': 'application/json',
      'x-forwarded-for': '203.0.113.7',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      authorizer: {
        jwt: {
          claims: { sub: subject, scope: 'orders/read orders/write' },
          scopes: ['orders/read', 'orders/write'],
        },
      },
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'example' },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  }
}

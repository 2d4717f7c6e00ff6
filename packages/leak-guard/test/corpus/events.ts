import { randomUUID } from 'node:crypto'
import type { LambdaContext } from '@warmstart/core'
import { lambdaContext } from '@warmstart/testing/doubles'

/** A JWT (unsigned, the guard never verifies) carrying a subject and an email. */
export function jwtFor(sub: string, email: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, email, iss: 'https://issuer.example.com' })}.${randomUUID().replaceAll('-', '')}`
}

export interface TestRequest {
  readonly event: ApiEvent
  readonly context: LambdaContext
}

export interface ApiEvent {
  version: string
  rawPath: string
  headers: Record<string, string>
  requestContext: { requestId: string; accountId: string; http: { method: string; sourceIp: string } }
  body: string
}

/** An API Gateway v2 request from a fresh user: every identifying value is new, so a match can only be a leak. */
export function apiRequest(): TestRequest {
  const n = randomUUID().slice(0, 8)
  const userId = `user-${n}`
  const email = `person.${n}@example.org`
  return {
    event: {
      version: '2.0',
      rawPath: '/orders',
      headers: {
        authorization: `Bearer ${jwtFor(userId, email)}`,
        cookie: `session=s3ss-${randomUUID()}`,
        'content-type': 'application/json',
      },
      requestContext: {
        requestId: `rq-${randomUUID()}`,
        accountId: '123456789012',
        http: { method: 'POST', sourceIp: '198.51.100.7' },
      },
      body: JSON.stringify({
        userId,
        email,
        orderId: `ord-${n}`,
        tenantId: `tenant-${n}`,
        items: [{ sku: 'ABC-1', qty: 2 }],
      }),
    },
    context: lambdaContext({ requestId: randomUUID(), functionName: 'orders' }),
  }
}

export function body(event: ApiEvent): { userId: string; email: string; orderId: string; tenantId: string } {
  return JSON.parse(event.body)
}

export function bearer(event: ApiEvent): string {
  return (event.headers.authorization as string).slice('Bearer '.length)
}

/**
 * A time budget no test reaches: tests bound the fast check by nodes, never by the clock (a loaded
 * machine can take any number of milliseconds from a check, and a test must not depend on it).
 */
export const UNTIMED = { budget: { time: '1h' } } as const

/** One caller of a deployed handler: every identifying value new, so a match can only be a leak. */
export interface Caller {
  readonly sub: string
  readonly email: string
  readonly tenant: string
  readonly orderId: string
  readonly accountId: string
  readonly query: string
}

export function newCaller(): Caller {
  const n = randomUUID().replaceAll('-', '').slice(0, 12)
  return {
    sub: `usr_${n}`,
    email: `buyer.${n}@example.org`,
    tenant: `tn_${n}`,
    orderId: `ord_${n}`,
    accountId: `acct_${n}`,
    query: `red-shoes-${n}`,
  }
}

/** An HTTP API (API Gateway v2) request with a JWT authorizer's claims, path parameters and a query. */
export function httpApiRequest(caller: Caller): object {
  const claims = {
    sub: caller.sub,
    email: caller.email,
    'custom:tenant': caller.tenant,
    iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example',
    aud: 'orders-web',
    token_use: 'id',
  }
  const path = `/accounts/${caller.accountId}/orders/${caller.orderId}`
  return {
    version: '2.0',
    routeKey: 'POST /accounts/{accountId}/orders/{orderId}',
    rawPath: path,
    rawQueryString: `q=${caller.query}&page=1`,
    headers: {
      authorization: `Bearer ${jwtFor(caller.sub, caller.email)}`,
      'content-type': 'application/json',
      'x-forwarded-for': '203.0.113.7',
    },
    queryStringParameters: { q: caller.query, page: '1' },
    pathParameters: { accountId: caller.accountId, orderId: caller.orderId },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      authorizer: { jwt: { claims, scopes: null } },
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'example' },
      requestId: randomUUID(),
      routeKey: 'POST /accounts/{accountId}/orders/{orderId}',
      stage: '$default',
      timeEpoch: 1_764_000_000_000,
    },
    body: JSON.stringify({ items: [{ sku: 'ABC-1', qty: 2 }], note: 'leave at the door' }),
    isBase64Encoded: false,
  }
}

/** An SQS batch of one message about the caller's order. */
export function sqsBatch(caller: Caller): object {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`,
        body: JSON.stringify({
          userId: caller.sub,
          email: caller.email,
          orderId: caller.orderId,
          tenantId: caller.tenant,
          amount: 1299,
        }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1764000000000' },
        messageAttributes: {},
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
        awsRegion: 'eu-west-1',
      },
    ],
  }
}

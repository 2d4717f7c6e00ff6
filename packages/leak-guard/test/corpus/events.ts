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

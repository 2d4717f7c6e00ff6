import { type LeakFinding, leakGuard } from '@warmstart/leak-guard'
import { afterEach, describe, expect, it } from 'vitest'
import { extractRequest } from '../src/extract.js'

const g = globalThis as unknown as Record<string, unknown>
afterEach(() => {
  for (const key of Object.keys(g)) if (key.startsWith('m_')) delete g[key]
})

const rule = { minLength: 6, allow: [] }
const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const jwt = (claims: object) => `${part({ alg: 'RS256', kid: 'key-1' })}.${part(claims)}.signature-part-1`
const taken = (event: unknown) =>
  Object.fromEntries(extractRequest(event, {}, 'req-1', rule, []).values.map((v) => [v.value, v.kind]))

function collecting() {
  const findings: LeakFinding[] = []
  return { findings, guard: leakGuard({ mode: 'report', onFinding: (f) => findings.push(...f) }) }
}

const COGNITO_CLAIMS = {
  sub: 'sub-0a1b2c3d',
  'cognito:username': 'person-name-1',
  'custom:tenant': 'tenant-acme-9',
  'custom:plan_code': 'plan-gold-77',
  email: 'claims.person@example.com',
  event_id: 'evt-5f6e7d8c',
  origin_jti: 'ojti-1234abcd',
  // The same for every caller of the API: never looked for.
  iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool',
  aud: 'client-app-id-1',
  client_id: 'client-app-id-1',
  token_use: 'access',
  scope: 'orders/read orders/write',
  auth_time: 1_764_700_000,
  iat: 1_764_700_000,
  exp: 1_764_703_600,
  nbf: 1_764_700_000,
  email_verified: true,
  'cognito:groups': ['administrators'],
}

describe('token and authorizer claims', () => {
  it('takes every claim of a token but the registered ones that are the same for every caller', () => {
    const values = taken({ headers: { authorization: `Bearer ${jwt(COGNITO_CLAIMS)}` } })
    expect(values).toMatchObject({
      'sub-0a1b2c3d': 'user id',
      'person-name-1': 'user id',
      'tenant-acme-9': 'tenant id',
      'plan-gold-77': 'token claim',
      'claims.person@example.com': 'email',
      'evt-5f6e7d8c': 'token claim',
      'ojti-1234abcd': 'token claim',
    })
    for (const shared of [
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool',
      'client-app-id-1',
      'access',
      'orders/read orders/write',
      '1764700000',
      '1764703600',
      'administrators',
      'key-1',
    ])
      expect(values[shared], shared).toBeUndefined()
  })

  it('takes the claims API Gateway decoded (v1 Cognito, v2 JWT authorizer, Lambda authorizer context)', () => {
    const v1 = taken({ requestContext: { authorizer: { claims: { ...COGNITO_CLAIMS, exp: 'Thu Dec 03' } } } })
    expect(v1['tenant-acme-9']).toBe('tenant id')
    expect(v1['Thu Dec 03']).toBeUndefined()
    const v2 = taken({
      requestContext: {
        authorizer: { jwt: { claims: { 'custom:tenant': 'tenant-v2-01' }, scopes: ['orders/read'] } },
      },
    })
    expect(v2).toEqual({ 'tenant-v2-01': 'tenant id' })
    const lambda = taken({
      requestContext: {
        authorizer: { principalId: 'principal-77', integrationLatency: 123456, workspace: 'workspace-42' },
      },
    })
    expect(lambda).toEqual({ 'principal-77': 'user id', 'workspace-42': 'token claim' })
  })

  it('finds a custom claim copied into a client default header and used as the key of a Map of promises', async () => {
    const { guard, findings } = collecting()
    const token = jwt({ sub: 'sub-99887766', 'custom:tenant': 'tenant-zeta-3' })
    const event = { headers: { authorization: `Bearer ${token}` } }
    const client = { defaults: { headers: { 'x-tenant': '' } } }
    const pending = new Map<string, Promise<unknown>>()
    g.m_client = client
    g.m_pending = pending
    await guard.wrap(() => {
      const tenant = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())[
        'custom:tenant'
      ] as string
      client.defaults.headers['x-tenant'] = tenant
      pending.set(tenant, Promise.resolve(tenant))
    })(event, { awsRequestId: 'claims-request-1' })
    expect(findings.map((f) => [f.path, f.kind])).toEqual([
      ['globalThis.m_client.defaults.headers["x-te…"]', 'tenant id'],
      ['globalThis.m_pending → key "tena…"', 'tenant id'],
      // The promise's settled value is another place that holds it (read through the inspector).
      ['globalThis.m_pending.get("tena…") → its settled value', 'tenant id'],
    ])
  })
})

describe('path parameters and query strings', () => {
  it('takes path parameters and query-string values of API Gateway v1 and v2', () => {
    expect(
      taken({
        version: '2.0',
        pathParameters: { orderRef: 'ref-20261203-1' },
        queryStringParameters: { search: 'blue-widgets', page: '2' },
      }),
    ).toEqual({ 'ref-20261203-1': 'path parameter', 'blue-widgets': 'query parameter' })
    expect(
      taken({
        resource: '/items/{id}',
        pathParameters: { id: 'item-8c7b6a' },
        queryStringParameters: { q: 'first-query' },
        multiValueQueryStringParameters: { q: ['first-query', 'second-query'] },
      }),
    ).toEqual({
      'item-8c7b6a': 'path parameter',
      'first-query': 'query parameter',
      'second-query': 'query parameter',
    })
  })

  it('takes ALB query values as sent and decoded, and keeps one with a stray percent sign as sent', () => {
    expect(
      taken({
        requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:tg/x' } },
        queryStringParameters: { email: 'alb.person%40example.com', note: 'hello+there', bad: '100%-sure' },
        pathParameters: null,
      }),
    ).toEqual({
      'alb.person%40example.com': 'query parameter',
      'alb.person@example.com': 'query parameter',
      'hello+there': 'query parameter',
      'hello there': 'query parameter',
      '100%-sure': 'query parameter',
    })
  })

  it('finds a path parameter kept in a global', async () => {
    const { guard, findings } = collecting()
    const event = { pathParameters: { accountRef: 'acct-ref-5544' } }
    const seen: string[] = []
    g.m_seen = seen
    await guard.wrap(() => {
      seen.push(event.pathParameters.accountRef)
    })(event, { awsRequestId: 'path-request-1' })
    expect(findings.map((f) => [f.path, f.kind])).toEqual([['globalThis.m_seen[0]', 'path parameter']])
  })
})

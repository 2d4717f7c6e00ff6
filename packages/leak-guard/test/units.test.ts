import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type Extractor, extractRequest } from '../src/extract.js'
import { decodeJwtPayload, looksLikeJwt } from '../src/jwt.js'
import { Matcher } from '../src/matcher.js'
import { describeKey, describeName, propertyStep, redact } from '../src/redact.js'
import type { RequestRecord } from '../src/request-record.js'
import { displayScript } from '../src/script-name.js'

describe('redaction', () => {
  const none = () => false
  it('shows at most four characters of a value and never more than half, and keys by their type when they are not strings', () => {
    expect(redact('abc')).toBe('a…')
    expect(redact('u')).toBe('…')
    expect(redact('user-1')).toBe('use…')
    expect(redact('secret-token')).toBe('secr…')
    expect(describeKey('plainName', none)).toBe('plainName')
    expect(describeKey('slot1', none)).toBe('slot1')
    expect(describeKey('odd key', none)).toBe('"odd…"')
    expect(describeKey('a much longer odd key', none)).toBe('"a mu…"')
    expect(describeKey(42, none)).toBe('42')
    expect(describeKey(10n, none)).toBe('10')
    expect(describeKey(true, none)).toBe('true')
    expect(describeKey(Symbol('s'), none)).toBe('a symbol')
    expect(describeKey(null, none)).toBe('a null')
    expect(describeKey(undefined, none)).toBe('a undefined')
    expect(describeKey({}, none)).toBe('a object')
  })

  it('redacts a name that looks like data, and any key or name that gives a request value away', () => {
    const reveals = (text: string) => text.includes('alice_smith') || text === '12345678'
    expect(describeKey('u83731a', none)).toBe('"u83…"')
    expect(describeKey('alice_smith', reveals)).toBe('"alic…"')
    expect(describeKey(12345678, reveals)).toBe('1234…')
    expect(describeKey(12345679, reveals)).toBe('12345679')
    expect(propertyStep('alice_smith', reveals)).toBe('["alic…"]')
    expect(propertyStep('sessions', reveals)).toBe('.sessions')
    expect(describeName('cache:alice_smith', reveals)).toBe('cach…')
    expect(describeName('lru:users', reveals)).toBe('lru:users')
  })
})

describe('JWTs', () => {
  it('decodes a payload that is a JSON object, and nothing else', () => {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part({ sub: 'x' })}.sig`)).toEqual({ sub: 'x' })
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part([1, 2, 3, 4, 5])}.sig`)).toBeUndefined()
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part('a string, not claims')}.sig`)).toBeUndefined()
    expect(
      decodeJwtPayload(`${part({ alg: 'none' })}.${Buffer.from('not json!').toString('base64url')}.sig`),
    ).toBeUndefined()
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part(null)}.signature`)).toBeUndefined()
    expect(decodeJwtPayload('not-a-token')).toBeUndefined()
    expect(looksLikeJwt('a'.repeat(20_000))).toBe(false)
  })
})

describe('the matcher', () => {
  const record = (requestId: string, values: RequestRecord['values']): RequestRecord => ({
    requestId,
    values,
    objects: [],
  })

  it('finds pieces of a secret, but not a JWT header every token shares', () => {
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')
    const token = `${header}.eyJzdWIiOiJ1c2VyLTEyMzQ1NiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS0xMjM0NQ`
    const matcher = new Matcher(
      [record('r1', [{ value: token, kind: 'bearer token', exactOnly: false }])],
      [],
    )
    expect(matcher.string(token.slice(-20))).toMatchObject({ how: 'substring', kind: 'bearer token' })
    expect(matcher.string(header)).toBeUndefined()
  })

  it('attributes an object two finished requests share to the first of them', () => {
    const event = {}
    const first = { ...record('first', []), objects: [{ object: event, kind: 'event object' as const }] }
    const second = { ...record('second', []), objects: [{ object: event, kind: 'event object' as const }] }
    expect(new Matcher([first, second], []).object(event)?.record.requestId).toBe('first')
  })

  it('counts a value two requests share as in flight', () => {
    const shared = { value: 'user-shared-1', kind: 'user id' as const, exactOnly: false }
    const matcher = new Matcher([record('done', [shared])], [record('running', [shared])])
    expect(matcher.string('user-shared-1')).toMatchObject({ inFlight: true })
    expect(matcher.string('prefix user-shared-1 suffix')).toMatchObject({ inFlight: true, how: 'substring' })
  })
})

describe('what is taken from an event', () => {
  const rule = { minLength: 6, allow: [] }
  const values = (event: unknown, context: unknown = {}, extractors: Extractor[] = []) =>
    Object.fromEntries(
      extractRequest(event, context, 'req-1', rule, extractors).values.map((v) => [v.value, v.kind]),
    )
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

  it('reads every shape of authorization and cookie header, and skips what is not a string', () => {
    const notJsonJwt = `${part({ alg: 'none' })}.${Buffer.from('not json at all').toString('base64url')}.signature1`
    expect(
      values({
        headers: {
          authorization: 'opaque-token-1',
          'proxy-authorization': `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
          cookie: 'lonely-cookie-value; a=b',
          'x-forwarded-for': 42,
        },
        multiValueHeaders: { Authorization: [notJsonJwt, 12345], Cookie: [7] },
      }),
    ).toEqual({
      'opaque-token-1': 'authorization header',
      [`Basic ${Buffer.from('no-colon-here').toString('base64')}`]: 'authorization header',
      [Buffer.from('no-colon-here').toString('base64')]: 'authorization header',
      'lonely-cookie-value; a=b': 'cookie',
      'lonely-cookie-value': 'cookie',
      [notJsonJwt]: 'authorization header',
      [notJsonJwt.split('.')[1] as string]: 'bearer token',
      signature1: 'bearer token',
    })
  })

  it('finds emails and tokens by their shape, claims under any key, and IPv6 addresses as whole values', () => {
    const token = `${part({ alg: 'none' })}.${part({ sub: 'loose-subject' })}.sig`
    const found = extractRequest(
      {
        note: 'loose.person@example.com',
        session: token,
        headers: { 'x-forwarded-for': '2001:db8::42' },
        requestContext: { authorizer: { lambda: { contact: 'claim.person@example.com' } } },
      },
      {},
      'req-1',
      rule,
      [],
    ).values
    expect(found).toEqual(
      expect.arrayContaining([
        { value: 'loose.person@example.com', kind: 'email', exactOnly: false },
        { value: 'loose-subject', kind: 'user id', exactOnly: false },
        { value: 'claim.person@example.com', kind: 'email', exactOnly: false },
        { value: '2001:db8::42', kind: 'ip address', exactOnly: true },
      ]),
    )
  })

  it('skips parts that are not objects, bodies that are not JSON or too large, and a missing context', () => {
    expect(
      values({ headers: 'none', requestContext: 'none', body: 'plain text body-value-1' }, null),
    ).toEqual({})
    expect(values({ body: `{"userId":"huge-body-user","pad":"${'x'.repeat(1_048_576)}"}` })).toEqual({})
    expect(values({ body: '[{"userId":"array-body-user"}]' })).toEqual({ 'array-body-user': 'user id' })
    expect(extractRequest('event', undefined, 'req-1', rule, []).objects).toEqual([])
  })

  it("takes extractors' values, with or without a kind, and an extractor that returns nothing", () => {
    expect(
      values({}, {}, [
        () => undefined,
        () => [{ value: 'no-kind-given' }, { value: 'tenant-given', kind: 'tenant id' }, 'fe80::abcd'],
      ]),
    ).toEqual({ 'no-kind-given': 'custom', 'tenant-given': 'tenant id', 'fe80::abcd': 'custom' })
    // An IPv6 address matches only as a whole, whatever kind of value it is.
    const [ip] = extractRequest({}, {}, 'req-1', rule, [() => ['fe80::abcd']]).values
    expect(ip).toEqual({ value: 'fe80::abcd', kind: 'custom', exactOnly: true })
  })
})

describe('script names in deep findings', () => {
  it('shows a script under the working directory relative to it, and any other as it is', () => {
    expect(displayScript(pathToFileURL(join(process.cwd(), 'src', 'handler.mjs')).href)).toBe(
      'src/handler.mjs',
    )
    expect(displayScript('/elsewhere/handler.mjs')).toBe('/elsewhere/handler.mjs')
    expect(displayScript('node:internal/timers')).toBe('node:internal/timers')
    expect(displayScript(process.cwd())).toBe(process.cwd())
  })
})

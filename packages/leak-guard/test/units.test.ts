import { describe, expect, it } from 'vitest'
import { decodeJwtPayload, looksLikeJwt } from '../src/jwt.js'
import { Matcher } from '../src/matcher.js'
import { describeKey, redact } from '../src/redact.js'
import type { RequestRecord } from '../src/request-record.js'

describe('redaction', () => {
  it('shows at most four characters of a value, and keys by their type when they are not strings', () => {
    expect(redact('abc')).toBe('…')
    expect(redact('secret-token')).toBe('secr…')
    expect(describeKey('plainName')).toBe('plainName')
    expect(describeKey('odd key')).toBe('"odd key"')
    expect(describeKey('a much longer odd key')).toBe('"a mu…"')
    expect(describeKey(42)).toBe('42')
    expect(describeKey(10n)).toBe('10')
    expect(describeKey(Symbol('s'))).toBe('a symbol')
    expect(describeKey(null)).toBe('a null')
    expect(describeKey(undefined)).toBe('a undefined')
    expect(describeKey({})).toBe('a object')
  })
})

describe('JWTs', () => {
  it('decodes a payload that is a JSON object, and nothing else', () => {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part({ sub: 'x' })}.sig`)).toEqual({ sub: 'x' })
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part([1, 2])}.sig`)).toBeUndefined()
    expect(
      decodeJwtPayload(`${part({ alg: 'none' })}.${Buffer.from('not json!').toString('base64url')}.sig`),
    ).toBeUndefined()
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

  it('counts a value two requests share as in flight', () => {
    const shared = { value: 'user-shared-1', kind: 'user id' as const, exactOnly: false }
    const matcher = new Matcher([record('done', [shared])], [record('running', [shared])])
    expect(matcher.string('user-shared-1')).toMatchObject({ inFlight: true })
    expect(matcher.string('prefix user-shared-1 suffix')).toMatchObject({ inFlight: true, how: 'substring' })
  })
})

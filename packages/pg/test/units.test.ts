import { ConnectError, isConnectionLost, pgConnection } from '@warmstart/pg'
import { describe, expect, it } from 'vitest'
import { nextDelay } from '../src/backoff.js'
import { classifyConnectFailure, isAuthFailure } from '../src/classify.js'
import { bundleError } from '../src/connect.js'
import { QueryTimeoutError, redact } from '../src/errors.js'

describe('decorrelated jitter', () => {
  it('draws each sleep between the base and three times the previous one, capped', () => {
    expect(nextDelay(100, 50, 10_000, () => 0)).toBe(50)
    expect(nextDelay(100, 50, 10_000, () => 1)).toBe(300)
    expect(nextDelay(100, 50, 10_000, () => 0.5)).toBe(175)
    expect(nextDelay(5_000, 50, 2_000, () => 1)).toBe(2_000)
    expect(nextDelay(10, 50, 2_000, () => 1)).toBe(50)
  })

  it('grows from one sleep to the next and never passes the cap', () => {
    let delay = 50
    for (let i = 0; i < 20; i++) {
      const next = nextDelay(delay, 50, 2_000)
      expect(next).toBeGreaterThanOrEqual(50)
      expect(next).toBeLessThanOrEqual(Math.min(2_000, delay * 3))
      delay = next
    }
  })
})

describe('reading errors', () => {
  it.each([
    ['57P01'],
    ['57P02'],
    ['57P03'],
    ['57P05'],
    ['25P03'],
    ['08006'],
    ['08003'],
    ['ECONNRESET'],
    ['EPIPE'],
    ['ETIMEDOUT'],
  ])('%s means the connection is gone', (code) => {
    expect(isConnectionLost(Object.assign(new Error('x'), { code }))).toBe(true)
  })

  it.each([
    ['Connection terminated unexpectedly'],
    ['Client has encountered a connection error and is not queryable'],
    ['timeout expired'],
  ])('"%s" means the connection is gone', (message) => {
    expect(isConnectionLost(new Error(message))).toBe(true)
  })

  it('keeps SQL errors and odd values apart from lost connections', () => {
    expect(isConnectionLost(Object.assign(new Error('division by zero'), { code: '22012' }))).toBe(false)
    expect(isConnectionLost('Connection terminated')).toBe(false)
    expect(isConnectionLost(null)).toBe(false)
    expect(isConnectionLost({ code: 42, message: 7 })).toBe(false)
  })

  it('tells refused logins and permanent failures', () => {
    expect(isAuthFailure({ code: '28P01' })).toBe(true)
    expect(isAuthFailure({ code: '28000' })).toBe(true)
    expect(isAuthFailure({ code: '3D000' })).toBe(false)
  })

  it.each([
    [{ code: '53300' }, 'too-many-connections', true],
    [{ code: '57P03' }, 'starting-up', true],
    [{ code: '57P01' }, 'unreachable', true],
    [{ code: '57P02' }, 'unreachable', true],
    [{ code: '08006' }, 'unreachable', true],
    [{ code: 'ECONNREFUSED' }, 'unreachable', true],
    [{ code: 'ECONNRESET' }, 'unreachable', true],
    [new Error('timeout expired'), 'unreachable', true],
    [new Error('Connection terminated unexpectedly'), 'unreachable', true],
    [{ code: '28P01' }, 'auth', false],
    [{ code: '3D000' }, 'config', false],
    [new TypeError('Invalid URL'), 'config', false],
    [new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), 'config', false],
  ])('classifies a failed connect %o as %s (retried: %s)', (error, reason, retry) => {
    expect(classifyConnectFailure(error)).toEqual({ reason, retry })
  })

  it('redacts the password wherever it appears', () => {
    expect(redact('user u password s3cret! at s3cret!', 's3cret!')).toBe('user u password *** at ***')
    expect(redact('nothing here', '')).toBe('nothing here')
    expect(redact('nothing here', undefined)).toBe('nothing here')
  })

  it('ConnectError carries a stable code, the attempts and the cause', () => {
    const cause = new Error('ECONNREFUSED')
    const error = new ConnectError('could not connect', { attempts: 3, reason: 'unreachable', cause })
    expect(error).toMatchObject({
      name: 'ConnectError',
      code: 'ERR_PG_CONNECT',
      attempts: 3,
      reason: 'unreachable',
    })
    expect(error.cause).toBe(cause)
  })
})

describe('typed errors', () => {
  it('QueryTimeoutError names the connection and the time allowed, and what became of the connection', () => {
    const cancelled = new QueryTimeoutError({ connection: 'orders', timeoutMs: 2_500, outcome: 'cancelled' })
    expect(cancelled).toMatchObject({
      name: 'QueryTimeoutError',
      code: 'ERR_PG_QUERY_TIMEOUT',
      connection: 'orders',
    })
    expect(cancelled.message).toMatch(/"orders".*2500 ms.*cancelled on the server/)
    const discarded = new QueryTimeoutError({ connection: 'orders', timeoutMs: 1, outcome: 'discarded' })
    expect(discarded.message).toMatch(/connection was closed/)
  })

  it('names the banner when pg cannot load in an ESM bundle, and leaves other load errors as they are', () => {
    const error = bundleError(new Error('Dynamic require of "events" is not supported'))
    expect(error).toMatchObject({
      code: 'ERR_PG_ESM_BUNDLE',
      message: expect.stringContaining('createRequire'),
    })
    expect(bundleError(new Error("Cannot find module 'pg'"))).toBeUndefined()
    expect(bundleError('odd')).toBeUndefined()
  })
})

describe('options', () => {
  const config = { host: 'localhost' }

  it.each([
    [{ config: 42 }, /option "config" must be a pg ClientConfig/],
    [{ config: null }, /option "config"/],
    [{ config, validateAfterIdle: 'soon' }, /option "validateAfterIdle"/],
    [{ config, validateTimeout: 0 }, /option "validateTimeout" must be more than 0/],
    [{ config, connectTimeout: 0 }, /option "connectTimeout" must be more than 0/],
    [{ config, connectTimeout: '20m' }, /option "connectTimeout" must be more than 0 ms and at most '15m'/],
    [{ config, maxLifetime: -1 }, /option "maxLifetime"/],
    // To pg.Pool, 0 means no limit (maxLifetimeSeconds, idleTimeoutMillis); here it would replace
    // every connection at each invocation, or close every spare one at once.
    [
      { config, maxLifetime: 0 },
      /^pgConnection: option "maxLifetime" must be more than 0 ms; leave it out for no limit \(to pg\.Pool, 0 means none\)$/,
    ],
    [{ config, idleTimeout: 0 }, /option "idleTimeout" must be more than 0 ms/],
    [
      { config, retry: { baseDelay: '1s', maxDelay: '10ms' } },
      /option "retry.maxDelay" must be >= retry.baseDelay/,
    ],
    [{ config, resetSession: 'yes' }, /option "resetSession" must be true or false/],
    [{ config, maxConnections: 1.5 }, /option "maxConnections"/],
    [{ config, name: '' }, /option "name"/],
    [{ config, logger: 'debug' }, /option "logger" must have warn\(\) and error\(\) methods/],
    [{ config, logger: { info: () => undefined } }, /option "logger"/],
    [{ config, clock: Date.now }, /option "clock" must have a now\(\) method/],
  ])('rejects %o', (options, message) => {
    expect(() => pgConnection(options as never)).toThrow(message)
  })

  it.each([
    [
      { config, validateAfterIdel: '5s' },
      /"validateAfterIdel" is not an option \(did you mean "validateAfterIdle"\?\)/,
    ],
    [{ config, retry: { attempts: 3 } }, /"retry.attempts" is not an option/],
    [{ config, retry: { baseDelai: 5 } }, /did you mean "retry.baseDelay"/],
    [{ config, deadlineMargin: 'soon' }, /option "deadlineMargin"/],
    [{ config, idleTimeout: -1 }, /option "idleTimeout"/],
  ])('rejects unknown or bad options %o, with the closest name', (options, message) => {
    expect(() => pgConnection(options as never)).toThrow(message)
  })

  it.each([
    [{ host: 'db.internal', databse: 'app' }, /option "config.databse" is not read by pg \(use database\)/],
    [{ hostname: 'db.internal' }, /option "config.hostname" is not read by pg \(use host\)/],
    [{ host: 'db.internal', username: 'app' }, /option "config.username" is not read by pg \(use user\)/],
    [
      { host: 'db.internal', max: 10 },
      /option "config.max" is not read by pg \(use pgConnection's maxConnections\)/,
    ],
    [{ host: 'db.internal', connectionTimeoutMillis: 2_000 }, /use pgConnection's connectTimeout/],
    [{ host: 'db.internal', statement_timeot: 1_000 }, /\(use statement_timeout\)/],
    [
      { host: 'db.internal', maxRetries: 3 },
      /option "config.maxRetries" is a serverless-postgres option, not read by pg/,
    ],
    [{ host: 'db.internal', maxConnections: 100 }, /"config.maxConnections" is a serverless-postgres option/],
  ])('rejects a pg config key that pg would ignore %o', (pgConfig, message) => {
    expect(() => pgConnection({ config: pgConfig as never })).toThrow(message)
  })

  it('passes the keys pg reads, and unknown keys far from any (a later pg may read them)', () => {
    const everything = {
      user: 'app',
      database: 'app',
      password: 'pw',
      port: 5432,
      host: 'db.internal',
      ssl: { rejectUnauthorized: true },
      statement_timeout: 1_000,
      application_name: 'api',
      keepAlive: true,
      someFuturePgSetting: true,
    }
    expect(() => pgConnection({ config: everything })).not.toThrow()
  })

  it("fails a connect whose config provider returns a key pg would ignore, naming it, not the provider's values", async () => {
    const db = pgConnection({
      config: async () => ({ hostname: 'db.internal', password: 'hunter2-secret' }) as never,
    })
    const error = await db.query('SELECT 1').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_PG_CONNECT', reason: 'config', attempts: 1 })
    expect((error as Error).message).toMatch(/option "config\(\)\.hostname" is not read by pg \(use host\)/)
    expect((error as Error).message).not.toContain('hunter2')
    await db.end()
  })

  it('rejects a missing options object', () => {
    expect(() => pgConnection(undefined as never)).toThrow(/option "options" must be an object/)
  })

  it('never echoes a long string given as config', () => {
    const secret = 'postgres://user:a-very-long-password@host/db'
    expect(() => pgConnection({ config: [secret] as never, name: 'x' })).not.toThrow()
    expect(() => pgConnection({ config: Symbol(secret) as never })).toThrow(/got symbol/)
  })

  it('holds as many connections as the Managed Instances concurrency', async () => {
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = '8'
    try {
      const db = pgConnection({ config, closeOnShutdown: true })
      await expect(db.client()).rejects.toMatchObject({ code: 'ERR_PG_NO_INVOCATION' })
    } finally {
      delete process.env.AWS_LAMBDA_MAX_CONCURRENCY
    }
  })
})

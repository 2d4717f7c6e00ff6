import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { FetchError, ParameterNotFoundError, ssmParameters, TransformError } from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { fakeClock, type LocalAws, startLocalAws } from '@warmstart/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { warnings } from './warnings.js'

let aws: LocalAws
let client: SSMClient
const many = Array.from({ length: 25 }, (_, i) => `/many/p${String(i).padStart(2, '0')}`)

beforeAll(async () => {
  aws = await startLocalAws({
    parameters: {
      '/app/url': 'https://example.test',
      '/app/hosts': { value: 'a.test,b.test', type: 'StringList' },
      '/app/db/password': { value: 'hunter2', type: 'SecureString' },
      '/app/flags': '{"on":true,"limits":{"rps":5}}',
      '/app/bad-json': 'hunter2-topsecret',
      '/app/blob': Buffer.from('bytes!').toString('base64'),
      '/app/labelled': { value: 'v1', labels: ['prod'] },
      ...Object.fromEntries(many.map((name, i) => [name, `value-${i}`])),
      ...Object.fromEntries(
        Array.from({ length: 23 }, (_, i) => [`/paged/${i < 20 ? '' : 'deep/'}k${i}`, `v${i}`]),
      ),
    },
  })
  aws.putParameter('/app/labelled', 'v2')
  client = new SSMClient({ ...aws.clientConfig, maxAttempts: 2 })
})

afterAll(async () => {
  client.destroy()
  await aws.stop()
})

beforeEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

const calls = (operation: string) => aws.callCount({ service: 'ssm', operation })

describe('ssmParameters: batching', () => {
  it('reads 25 names with 3 GetParameters calls (10 + 10 + 5)', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const values = await ssm.getMany(many)
    expect(Object.keys(values)).toHaveLength(25)
    expect(values['/many/p07']).toBe('value-7')
    expect(calls('GetParameters')).toBe(3)
    expect(aws.calls.map((call) => call.names.length)).toEqual([10, 10, 5])
    // Cached: the same read again makes no call.
    await ssm.getMany(many)
    expect(aws.calls).toHaveLength(3)
  })

  it('coalesces names read in the same tick, whatever the call, into shared batches', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const [url, hosts, flags, again] = await Promise.all([
      ssm.get('/app/url'),
      ssm.get<string[]>('/app/hosts'),
      ssm.get<{ on: boolean }>('/app/flags', { transform: 'json' }),
      ssm.get('/app/url'),
    ])
    expect(url).toBe('https://example.test')
    expect(again).toBe(url)
    expect(hosts).toEqual(['a.test', 'b.test'])
    expect(flags.on).toBe(true)
    expect(aws.calls).toHaveLength(1)
    expect([...(aws.calls[0]?.names ?? [])].sort()).toEqual(['/app/flags', '/app/hosts', '/app/url'])
  })

  it('makes one call for 50 concurrent reads of one name (single flight)', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const values = await Promise.all(Array.from({ length: 50 }, () => ssm.get('/app/url')))
    expect(new Set(values)).toEqual(new Set(['https://example.test']))
    expect(aws.calls).toHaveLength(1)
  })

  it('pages through a path, 10 per GetParametersByPath call, recursive by default', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const all = await ssm.getByPath('/paged')
    expect(Object.keys(all)).toHaveLength(23)
    expect(all['/paged/deep/k21']).toBe('v21')
    expect(calls('GetParametersByPath')).toBe(3)
    expect(Object.isFrozen(all)).toBe(true)
    const top = await ssm.getByPath('/paged', { recursive: false, ttl: '1m' })
    expect(Object.keys(top)).toHaveLength(20)
    expect(calls('GetParametersByPath')).toBe(5)
    await ssm.getByPath('/paged')
    expect(calls('GetParametersByPath')).toBe(5)
    const json = await ssm
      .getByPath('/app', { recursive: false, transform: 'json', decrypt: false })
      .catch((e) => e)
    expect(json).toBeInstanceOf(TransformError)
  })
})

describe('ssmParameters: values', () => {
  it('decrypts SecureString by default, and gives the ciphertext with decrypt: false', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    expect(await ssm.get('/app/db/password')).toBe('hunter2')
    const encrypted = await ssm.get('/app/db/password', { decrypt: false })
    expect(encrypted).not.toBe('hunter2')
    expect(aws.calls).toHaveLength(2)
  })

  it('reads versions and labels, alongside the plain name in the same batch', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const [latest, first, prod] = await Promise.all([
      ssm.get('/app/labelled'),
      ssm.get('/app/labelled:1'),
      ssm.get('/app/labelled:prod'),
    ])
    expect([latest, first, prod]).toEqual(['v2', 'v1', 'v1'])
    expect(aws.calls).toHaveLength(1)
  })

  it('transforms json (frozen) and binary', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const flags = await ssm.get<{ on: boolean; limits: { rps: number } }>('/app/flags', { transform: 'json' })
    expect(flags).toEqual({ on: true, limits: { rps: 5 } })
    expect(Object.isFrozen(flags.limits)).toBe(true)
    const blob = await ssm.get('/app/blob', { transform: 'binary' })
    expect(Buffer.from(blob).toString()).toBe('bytes!')
  })
})

describe('ssmParameters: errors', () => {
  it('lists missing names in a ParameterNotFoundError, unless optional', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const single = await ssm.get('/app/missing').catch((e: unknown) => e)
    expect(single).toBeInstanceOf(ParameterNotFoundError)
    expect(single).toMatchObject({ code: 'ERR_PARAMETER_NOT_FOUND', names: ['/app/missing'] })
    const several = await ssm
      .getMany(['/app/url', '/app/nope-1', '/app/nope-2', '/app/url:9'])
      .catch((e) => e)
    expect(several).toMatchObject({ names: ['/app/nope-1', '/app/nope-2', '/app/url:9'] })
    expect((several as Error).message).toBe('SSM parameters not found: /app/nope-1, /app/nope-2, /app/url:9')

    aws.resetCalls()
    expect(await ssm.get('/app/missing', { optional: true })).toBeUndefined()
    expect(await ssm.get('/app/missing', { optional: true })).toBeUndefined()
    expect(aws.calls).toHaveLength(1)
    expect(await ssm.get('/app/flags', { transform: 'json', optional: true })).toEqual({
      on: true,
      limits: { rps: 5 },
    })
  })

  it('names the parameter of a failed transform, never its value, nor in the cause chain', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    const error = await ssm.get('/app/bad-json', { transform: 'json' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransformError)
    expect(error).toMatchObject({
      code: 'ERR_PARAMETER_TRANSFORM',
      parameter: '/app/bad-json',
      transform: 'json',
    })
    // JSON.parse's own message quotes the input: it must not travel with the error.
    let link: unknown = error
    while (link instanceof Error) {
      expect(link.message).not.toContain('hunter2')
      expect(link.stack ?? '').not.toContain('hunter2')
      link = link.cause
    }
    await expect(ssm.getMany(['/app/url', '/app/bad-json'], { transform: 'json' })).rejects.toBeInstanceOf(
      TransformError,
    )
    const binary = await ssm.get('/app/url', { transform: 'binary' }).catch((e: unknown) => e)
    expect(binary).toMatchObject({ code: 'ERR_PARAMETER_TRANSFORM', parameter: '/app/url' })
    // The value SSM gave was fetched fine and is cached as it is: its json view fails until it is
    // fetched again (TTL, refresh), without asking SSM on every read.
    aws.putParameter('/app/bad-json', '{"fixed":1}')
    aws.resetCalls()
    await expect(ssm.get('/app/bad-json', { transform: 'json' })).rejects.toBeInstanceOf(TransformError)
    expect(aws.calls).toHaveLength(0)
    expect(await ssm.refresh('/app/bad-json', { transform: 'json' })).toEqual({ fixed: 1 })
  })

  it('serves the last good value under throttling within staleIfError (the SDK retries: counted at the server)', async () => {
    const clock = fakeClock()
    const { lines, logger } = warnings()
    // A staleAfter long enough for the SDK's own retries (see the deadline tests for the default).
    const ssm = ssmParameters({
      client: fromSsmClient(client),
      clock,
      ttl: '1m',
      jitter: 0,
      staleIfError: '5m',
      staleAfter: '10s',
      logger,
    })
    expect(await ssm.get('/app/url')).toBe('https://example.test')
    clock.advance('2m')
    aws.injectFault({ service: 'ssm', kind: 'throttle', times: Number.POSITIVE_INFINITY })
    expect(await ssm.get('/app/url')).toBe('https://example.test')
    expect(calls('GetParameters')).toBe(3) // 1 + the SDK's 2 attempts
    expect(lines).toEqual([
      expect.objectContaining({
        details: expect.objectContaining({ key: '/app/url', code: 'ThrottlingException' }),
      }),
    ])
    clock.advance('5m')
    const error = await ssm.get('/app/url').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FetchError)
    expect(error).toMatchObject({ code: 'ERR_PARAMS_FETCH', key: '/app/url', reason: 'ThrottlingException' })
    aws.clearFaults()
    expect(await ssm.get('/app/url')).toBe('https://example.test')
  })

  it('serves the last good value under 500s, and throws with the cause without one', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({
      client: fromSsmClient(client),
      clock,
      ttl: '1m',
      jitter: 0,
      staleIfError: '10m',
    })
    await ssm.get('/app/hosts')
    clock.advance('61s')
    aws.injectFault({ service: 'ssm', kind: 'server-error', times: Number.POSITIVE_INFINITY })
    expect(await ssm.get<string[]>('/app/hosts')).toEqual(['a.test', 'b.test'])
    const cold = await ssm.get('/app/url').catch((e: unknown) => e)
    expect(cold).toMatchObject({ code: 'ERR_PARAMS_FETCH', reason: 'InternalServerError' })
    expect((cold as Error).cause).toMatchObject({ name: 'InternalServerError' })
    expect(ssm.stats()).toMatchObject({ staleServed: 1 })
  })
})

describe('ssmParameters: TTL and refresh', () => {
  it('fetches again after the TTL on the fake clock, not before', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({ client: fromSsmClient(client), clock, ttl: '5m', jitter: 0 })
    await ssm.get('/app/url')
    clock.advance('299s')
    await ssm.get('/app/url')
    expect(aws.calls).toHaveLength(1)
    clock.advance('1s')
    await ssm.get('/app/url')
    expect(aws.calls).toHaveLength(2)
    await ssm.get('/app/url', { ttl: 'forever', optional: true })
    clock.advance('100d')
    await ssm.get('/app/url', { ttl: 'forever', optional: true })
    expect(aws.calls).toHaveLength(3)
  })

  it('spreads expiry with jitter (default ±10%)', async () => {
    const clock = fakeClock()
    const early = ssmParameters({ client: fromSsmClient(client), clock, ttl: '5m', random: () => 0 })
    const late = ssmParameters({ client: fromSsmClient(client), clock, ttl: '5m', random: () => 0.99 })
    await Promise.all([early.get('/app/url'), late.get('/app/url')])
    expect(aws.calls).toHaveLength(2) // two providers, two caches
    clock.advance('270s') // the early one expires at 5m - 10%
    await Promise.all([early.get('/app/url'), late.get('/app/url')])
    expect(aws.calls).toHaveLength(3)
    clock.advance('59s') // 5m29s: the late one lives until 5m + 9.8%
    await late.get('/app/url')
    expect(aws.calls).toHaveLength(3)
    clock.advance('1s')
    await late.get('/app/url')
    expect(aws.calls).toHaveLength(4)
  })

  it('refresh(name) fetches a changed value at once; invalidate forgets it', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    aws.putParameter('/app/changing', 'one')
    expect(await ssm.get('/app/changing')).toBe('one')
    aws.putParameter('/app/changing', 'two')
    expect(await ssm.get('/app/changing')).toBe('one')
    expect(await ssm.refresh('/app/changing')).toBe('two')
    expect(await ssm.get('/app/changing')).toBe('two')
    aws.putParameter('/app/changing', 'three')
    expect(ssm.invalidate('/app/changing')).toBe(true)
    expect(await ssm.get('/app/changing')).toBe('three')
  })

  it('refreshes ahead and settles', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({
      client: fromSsmClient(client),
      clock,
      ttl: 100_000,
      jitter: 0,
      refreshAhead: 0.2,
    })
    await ssm.get('/app/url')
    clock.advance(90_000)
    await ssm.get('/app/url')
    await ssm.settle()
    expect(aws.calls).toHaveLength(2)
    expect(ssm.stats()).toMatchObject({ refreshes: 1 })
  })
})

describe('ssmParameters: options', () => {
  it('rejects bad options and arguments with ERR_INVALID_OPTION', async () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    expect(() => ssmParameters(null as never)).toThrow(invalid)
    expect(() => ssmParameters({ client: {} as never })).toThrow(invalid)
    // A bare client: its commands come from the SDK entry, so that the default path bundles no SDK.
    expect(() => ssmParameters({ client: client as never })).toThrow(
      /option "client" must be an SSMClient passed through fromSsmClient\(\) of '@warmstart\/params\/ssm-sdk'/,
    )
    // A client of the other service is refused where it is wrapped, from its config.serviceId.
    const other = new SecretsManagerClient(aws.clientConfig)
    expect(() => fromSsmClient(other as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'fromSsmClient: expected an SSMClient (got a client of "Secrets Manager")',
      }),
    )
    expect(() => fromSsmClient({} as never)).toThrow(/expected an SSMClient \(got no SDK v3 client\)/)
    // What the other service's entry made, or a copy missing an operation, is not this provider's.
    expect(() => ssmParameters({ client: fromSecretsManagerClient(other) as never })).toThrow(
      /option "client" must be what fromSsmClient\(\) of '@warmstart\/params\/ssm-sdk' returns for an SSMClient/,
    )
    expect(() =>
      ssmParameters({ client: { ...fromSsmClient(client), getParameters: undefined } as never }),
    ).toThrow(invalid)
    other.destroy()
    expect(() => ssmParameters({ jitter: 3 })).toThrow(invalid)
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    // Every promise-returning method rejects, never throws.
    await expect(ssm.get('')).rejects.toMatchObject(invalid)
    await expect(ssm.get('/x', { transform: 'yaml' as never })).rejects.toMatchObject(invalid)
    await expect(ssm.get('/x', { decrypt: 'yes' as never })).rejects.toMatchObject(invalid)
    await expect(ssm.getMany('/x' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(ssm.getByPath('')).rejects.toMatchObject(invalid)
    await expect(ssm.refresh('')).rejects.toMatchObject(invalid)
    expect(() => ssm.ref('')).toThrow(invalid)
  })

  it("refuses a name holding '#' instead of serving it another name's cached value", async () => {
    const ssm = ssmParameters({ client: fromSsmClient(client) })
    // The cache keys of these reads are '/app/url#nodecrypt', '/app/url#,optional' and a path's.
    await ssm.get('/app/url', { decrypt: false })
    await ssm.get('/app/url', { optional: true })
    await ssm.getByPath('/app/db')
    const calls = aws.calls.length
    const invalid = expect.objectContaining({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining("'#'"),
    })
    for (const name of ['/app/url#nodecrypt', '/app/url#,optional', '/app/db#path,recursive,raw']) {
      await expect(ssm.get(name)).rejects.toMatchObject(invalid)
      await expect(ssm.get(name, { decrypt: true })).rejects.toMatchObject(invalid)
      await expect(ssm.getMany([name])).rejects.toMatchObject(invalid)
      await expect(ssm.getByPath(name)).rejects.toMatchObject(invalid)
      expect(() => ssm.ref(name)).toThrow(invalid)
    }
    expect(aws.calls).toHaveLength(calls)
  })

  it('takes POWERTOOLS_PARAMETERS_MAX_AGE and POWERTOOLS_PARAMETERS_SSM_DECRYPT as defaults', async () => {
    const clock = fakeClock()
    process.env.POWERTOOLS_PARAMETERS_MAX_AGE = '60'
    process.env.POWERTOOLS_PARAMETERS_SSM_DECRYPT = 'false'
    try {
      const ssm = ssmParameters({ client: fromSsmClient(client), clock, jitter: 0 })
      expect(await ssm.get('/app/db/password')).not.toBe('hunter2')
      expect(await ssm.get('/app/db/password', { decrypt: true })).toBe('hunter2')
      clock.advance('60s')
      await ssm.get('/app/db/password')
      expect(aws.calls).toHaveLength(3)
      process.env.POWERTOOLS_PARAMETERS_MAX_AGE = 'soon'
      expect(() => ssmParameters({ client: fromSsmClient(client) })).toThrow(/POWERTOOLS_PARAMETERS_MAX_AGE/)
      process.env.POWERTOOLS_PARAMETERS_MAX_AGE = ''
      process.env.POWERTOOLS_PARAMETERS_SSM_DECRYPT = 'maybe'
      expect(() => ssmParameters({ client: fromSsmClient(client) })).toThrow(
        /POWERTOOLS_PARAMETERS_SSM_DECRYPT/,
      )
    } finally {
      delete process.env.POWERTOOLS_PARAMETERS_MAX_AGE
      delete process.env.POWERTOOLS_PARAMETERS_SSM_DECRYPT
    }
  })

  it('uses the default HTTP transport (no SDK client) when none is given, nothing sent before the first read', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SSM: aws.endpoint,
      AWS_REGION: aws.clientConfig.region,
      AWS_ACCESS_KEY_ID: aws.clientConfig.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.clientConfig.credentials.secretAccessKey,
    })
    try {
      const ssm = ssmParameters()
      expect(aws.calls).toHaveLength(0)
      expect(await ssm.get('/app/url')).toBe('https://example.test')
      expect(aws.calls).toHaveLength(1)
    } finally {
      for (const key of [
        'AWS_ENDPOINT_URL_SSM',
        'AWS_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
    }
  })
})

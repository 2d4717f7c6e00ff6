import { fileURLToPath } from 'node:url'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import { onEvent } from '@warmstart/core'
import { invocationCount } from '@warmstart/core/internal'
import {
  type ParamsOf,
  ParamsResolveError,
  paramsMiddleware,
  secretsManager,
  ssmParameters,
} from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { fakeClock, type LocalAws, type Simulation, simulateLambda, startLocalAws } from '@warmstart/testing'
import type { Context } from 'aws-lambda'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let aws: LocalAws
let ssmClient: SSMClient
let secretsClient: SecretsManagerClient
const seed = {
  parameters: {
    '/app/flags': '{"on":true}',
    '/app/url': 'https://example.test',
    '/app/hosts': { value: 'a,b', type: 'StringList' as const },
    '/app/broken': 'hunter2-not-json',
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`/many/p${i}`, `v${i}`])),
  },
  secrets: { 'api/key': 'key-123', 'db/credentials': '{"username":"app","password":"pw"}' },
}

beforeAll(async () => {
  aws = await startLocalAws(seed)
  ssmClient = new SSMClient({ ...aws.clientConfig, maxAttempts: 1 })
  secretsClient = new SecretsManagerClient({ ...aws.clientConfig, maxAttempts: 1 })
})

afterAll(async () => {
  ssmClient.destroy()
  secretsClient.destroy()
  await aws.stop()
})

beforeEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

const context = (id: string) => ({ awsRequestId: id, functionName: 'test' })

describe('paramsMiddleware in a Middy chain', () => {
  it('resolves the spec before the handler in one GetParameters batch and one BatchGetSecretValue, typed on the context', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const secrets = secretsManager({ client: fromSecretsManagerClient(secretsClient) })
    const fetch = {
      flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }),
      url: ssm.ref('/app/url'),
      hosts: ssm.ref<string[]>('/app/hosts'),
      apiKey: secrets.ref('api/key'),
      db: secrets.ref<{ username: string }>('db/credentials', { transform: 'json' }),
    }
    const seen: unknown[] = []
    const before = invocationCount()
    const handler = middy(async (_event: unknown, ctx: Context & ParamsOf<typeof fetch>) => {
      seen.push({ on: ctx.flags.on, url: ctx.url, hosts: ctx.hosts, key: ctx.apiKey, user: ctx.db.username })
      return 'done'
    }).use(paramsMiddleware({ fetch }))

    expect(await handler({}, context('r-1') as never)).toBe('done')
    expect(seen[0]).toEqual({
      on: true,
      url: 'https://example.test',
      hosts: ['a', 'b'],
      key: 'key-123',
      user: 'app',
    })
    expect(aws.calls.map((call) => call.operation).sort()).toEqual(['BatchGetSecretValue', 'GetParameters'])
    expect(invocationCount()).toBe(before + 1)
    // Warm: no remote call.
    await handler({}, context('r-2') as never)
    expect(aws.calls).toHaveLength(2)
  })

  it('types the context of a handler attached after it with .handler(): no cast, no annotation', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const handler = middy()
      .use(
        paramsMiddleware({ fetch: { flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }) } }),
      )
      .handler(async (_event: unknown, ctx) => ({ on: ctx.flags.on, request: ctx.awsRequestId }))
    expect(await handler({}, context('r-typed') as never)).toEqual({ on: true, request: 'r-typed' })
  })

  it('with setToContext: false only warms the caches', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const fetch = { url: ssm.ref('/app/url') }
    const handler = middy(async (_event: unknown, ctx: Context) => {
      return { onContext: 'url' in ctx, value: await ssm.get('/app/url') }
    }).use(paramsMiddleware({ fetch, setToContext: false }))
    expect(await handler({}, context('r-3') as never)).toEqual({
      onContext: false,
      value: 'https://example.test',
    })
    expect(aws.calls).toHaveLength(1)
  })

  it('lists every key that failed with its name and code, never a value', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const secrets = secretsManager({ client: fromSecretsManagerClient(secretsClient) })
    const handler = middy(async () => 'unreachable').use(
      paramsMiddleware({
        fetch: {
          url: ssm.ref('/app/url'),
          missing: ssm.ref('/app/missing'),
          broken: ssm.ref('/app/broken', { transform: 'json' }),
          secret: secrets.ref('nope'),
        },
      }),
    )
    const error = await handler({}, context('r-4') as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ParamsResolveError)
    expect(
      (error as ParamsResolveError).failures.map(({ key, name, code }) => ({ key, name, code })),
    ).toEqual([
      { key: 'missing', name: '/app/missing', code: 'ERR_PARAMETER_NOT_FOUND' },
      { key: 'broken', name: '/app/broken', code: 'ERR_PARAMETER_TRANSFORM' },
      { key: 'secret', name: 'nope', code: 'ERR_SECRET_NOT_FOUND' },
    ])
    expect((error as Error).message).toContain('missing (/app/missing): ERR_PARAMETER_NOT_FOUND')
    expect((error as Error).message).not.toContain('hunter2')
    expect((error as Error).cause).toBeInstanceOf(AggregateError)

    const one = middy(async () => 'unreachable').use(
      paramsMiddleware({ fetch: { m: ssm.ref('/app/missing') } }),
    )
    const single = await one({}, context('r-5') as never).catch((e: unknown) => e)
    expect((single as Error).cause).toMatchObject({ code: 'ERR_PARAMETER_NOT_FOUND' })
  })

  it('awaits a refresh ahead it started before the invocation ends, in after and in onError', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      clock,
      ttl: 100_000,
      jitter: 0,
      refreshAhead: 0.5,
    })
    let fail = false
    const handler = middy(async () => {
      if (fail) throw new Error('handler failed')
      return 'ok'
    }).use(paramsMiddleware({ fetch: { url: ssm.ref('/app/url') } }))
    await handler({}, context('r-6') as never)
    clock.advance(60_000)
    aws.injectFault({ service: 'ssm', kind: 'latency', latencyMs: 50 })
    await handler({}, context('r-7') as never)
    expect(aws.callCount({ service: 'ssm' })).toBe(2)
    expect(ssm.stats()).toMatchObject({ refreshes: 1 })
    // The refresh finished inside the invocation: nothing is pending now.
    let settled = false
    void ssm.settle().then(() => (settled = true))
    await Promise.resolve()
    await Promise.resolve()
    expect(settled).toBe(true)

    clock.advance(60_000)
    fail = true
    aws.injectFault({ service: 'ssm', kind: 'latency', latencyMs: 50 })
    await expect(handler({}, context('r-8') as never)).rejects.toThrow('handler failed')
    expect(aws.callCount({ service: 'ssm' })).toBe(3)
  })

  it('a wall clock stepped back does not stretch the TTL: the value is fetched again', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient), clock, ttl: '5m', jitter: 0 })
    aws.putParameter('/app/stepped', 'before')
    const handler = middy(async (_event: unknown, ctx: Context & { stepped?: string }) => ctx.stepped).use(
      paramsMiddleware({ fetch: { stepped: ssm.ref('/app/stepped') } }),
    )
    expect(await handler({}, context('r-step-1') as never)).toBe('before')
    expect(await handler({}, context('r-step-2') as never)).toBe('before')
    expect(aws.callCount({ service: 'ssm' })).toBe(1)
    aws.putParameter('/app/stepped', 'after')
    // An hour back (an NTP step, a host's time set): "5 minutes after the fetch" would be an hour
    // and 5 minutes away, and how long ago the fetch was is unknown: the value is fetched again.
    clock.set(clock.now() - 3_600_000)
    expect(await handler({}, context('r-step-3') as never)).toBe('after')
    expect(await ssm.get('/app/stepped')).toBe('after')
    expect(aws.callCount({ service: 'ssm' })).toBe(2)
    clock.set(clock.now() - 3_600_000)
    expect(await ssm.get('/app/stepped')).toBe('after')
    expect(aws.callCount({ service: 'ssm' })).toBe(3)
    // Failing then, it still has the value to fall back on.
    clock.set(clock.now() - 3_600_000)
    aws.injectFault({ service: 'ssm', kind: 'server-error', times: Number.POSITIVE_INFINITY })
    expect(await ssm.get('/app/stepped')).toBe('after')
  })

  it('serves a warm invocation without a promise, and reads a value fetched again as soon as it lands', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      clock,
      ttl: 100_000,
      jitter: 0,
      refreshAhead: 0.5,
    })
    const secrets = secretsManager({
      client: fromSecretsManagerClient(secretsClient),
      clock,
      ttl: 100_000,
      jitter: 0,
    })
    const middleware = paramsMiddleware({
      fetch: { url: ssm.ref('/app/url'), apiKey: secrets.ref('api/key') },
    })
    const request = (id: string) => ({ context: context(id) as Record<string, unknown> }) as never
    const cold = request('w-1')
    await middleware.before?.(cold)
    expect(await middleware.after?.(cold)).toBeUndefined()
    const warm = request('w-2') as { context: Record<string, unknown> }
    expect(middleware.before?.(warm as never)).toBeUndefined()
    expect(warm.context).toMatchObject({ url: 'https://example.test', apiKey: 'key-123' })
    expect(middleware.after?.(warm as never)).toBeUndefined()
    expect(ssm.stats()).toMatchObject({ hits: 1, misses: 1 })

    // Refresh ahead: the current value is served at once, and after awaits the refresh.
    clock.advance(60_000)
    const ahead = request('w-3')
    expect(middleware.before?.(ahead)).toBeUndefined()
    const settling = middleware.after?.(ahead)
    expect(settling).toBeInstanceOf(Promise)
    await settling
    expect(ssm.stats()).toMatchObject({ refreshes: 1 })

    // Past expiry the secret is fetched again: that invocation awaits it, the next one is warm again.
    clock.advance(150_000)
    const expired = request('w-4') as { context: Record<string, unknown> }
    const resolving = middleware.before?.(expired as never)
    expect(resolving).toBeInstanceOf(Promise)
    await resolving
    expect(expired.context.apiKey).toBe('key-123')
    expect(middleware.before?.(request('w-5'))).toBeUndefined()
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(2)
  })

  it('serves warm invocations the value each cache holds now: after a refresh, an invalidation and expiry, and counts their hits', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient), clock, ttl: 100_000, jitter: 0 })
    const secrets = secretsManager({
      client: fromSecretsManagerClient(secretsClient),
      clock,
      ttl: 200_000,
      jitter: 0,
    })
    const name = '/app/rotating'
    aws.putParameter(name, 'one')
    const handler = middy(async (_event: unknown, ctx: Context & Record<string, unknown>) => ({
      value: ctx.value,
      again: ctx.again,
      flags: ctx.flags,
      apiKey: ctx.apiKey,
    })).use(
      paramsMiddleware({
        fetch: {
          value: ssm.ref(name),
          again: ssm.ref(name),
          flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }),
          apiKey: secrets.ref('api/key'),
        },
      }),
    )
    let n = 0
    const invoke = () => handler({}, context(`win-${++n}`) as never)
    const expected = (value: string) => ({ value, again: value, flags: { on: true }, apiKey: 'key-123' })
    expect(await invoke()).toEqual(expected('one'))
    expect(await invoke()).toEqual(expected('one'))
    expect(await invoke()).toEqual(expected('one'))
    // Every read of a warm invocation is a hit, as if each ref had read its cache (the first
    // invocation's second read of the name joined its fetch).
    expect(ssm.stats()).toMatchObject({ misses: 2, hits: 6 })
    expect(secrets.stats()).toMatchObject({ misses: 1, hits: 2 })

    aws.putParameter(name, 'two')
    expect(await ssm.refresh(name)).toBe('two')
    expect(await invoke()).toEqual(expected('two'))
    aws.putParameter(name, 'three')
    ssm.invalidate(name)
    expect(await invoke()).toEqual(expected('three'))
    expect(await invoke()).toEqual(expected('three'))
    aws.putParameter(name, 'four')
    clock.advance(100_000)
    expect(await invoke()).toEqual(expected('four'))
    expect(aws.callCount({ service: 'ssm' })).toBe(4)
    expect(aws.callCount({ service: 'secretsmanager' })).toBe(1)

    // With a listener for hit events, each read publishes its own.
    const hits: string[] = []
    const stop = onEvent((event) => {
      if (event.type === 'cache.hit') hits.push(event.key)
    })
    try {
      await invoke()
    } finally {
      stop()
    }
    expect(hits).toHaveLength(4)
  })

  it('awaits every provider after the first one found busy, and refs whose settle is never the same promise', async () => {
    let settles = 0
    const custom = {
      source: 'ssm' as const,
      name: 'custom',
      resolve: () => Promise.resolve('value'),
      settle: () => {
        settles++
        return Promise.resolve()
      },
    }
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const middleware = paramsMiddleware({ fetch: { custom, url: ssm.ref('/app/url') } })
    const request = { context: context('c-1') } as never
    await middleware.before?.(request)
    expect(middleware.after?.(request)).toBeInstanceOf(Promise)
    await middleware.onError?.(request)
    expect(settles).toBe(2)
    // A resolve that hands out a new promise each time is awaited on every invocation.
    expect(middleware.before?.(request)).toBeInstanceOf(Promise)
  })

  it('puts keys such as constructor on the context, and refuses __proto__, which no context can hold', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const fetch = {
      constructor: ssm.ref('/app/url'),
      hasOwnProperty: ssm.ref('/app/flags', { transform: 'json' }),
    }
    const request = { event: {}, context: context('odd-keys') } as never
    await paramsMiddleware({ fetch }).before?.(request)
    expect((request as { context: object }).context).toMatchObject({
      constructor: 'https://example.test',
      hasOwnProperty: { on: true },
    })
    // An own '__proto__' key (a computed key, a spec read from JSON): Object.assign would set the
    // context's prototype to the value, or drop a string.
    const proto = { ['__proto__']: ssm.ref('/app/flags', { transform: 'json' }) }
    expect(Object.keys(proto)).toEqual(['__proto__'])
    expect(() => paramsMiddleware({ fetch: proto })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringMatching(/fetch\.__proto__/),
      }),
    )
    expect(() => paramsMiddleware({ fetch: proto, setToContext: false })).not.toThrow()
  })

  it("refuses a spec key that is one of the Lambda context's own members, unless setToContext is false", async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const lambdaMembers = [
      'getRemainingTimeInMillis',
      'awsRequestId',
      'functionName',
      'functionVersion',
      'invokedFunctionArn',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
      'identity',
      'clientContext',
      'callbackWaitsForEmptyEventLoop',
      'done',
      'fail',
      'succeed',
      'tenantId',
      'xRayTraceId',
    ]
    for (const key of lambdaMembers) {
      const fetch = { [key]: ssm.ref('/app/url') }
      expect(() => paramsMiddleware({ fetch }), key).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTION',
          message: expect.stringContaining(`option "fetch.${key}"`),
        }),
      )
      expect(() => paramsMiddleware({ fetch, setToContext: false }), key).not.toThrow()
    }
    expect(() => paramsMiddleware({ fetch: { getRemainingTimeInMillis: ssm.ref('/app/url') } })).toThrow(
      /another key/,
    )
    // What other warmstart middlewares put on the context is the user's to arrange: still allowed.
    const request = { event: {}, context: context('ours') } as never
    await paramsMiddleware({ fetch: { pg: ssm.ref('/app/url'), coldStart: ssm.ref('/app/url') } }).before?.(
      request,
    )
    expect((request as { context: object }).context).toMatchObject({
      pg: 'https://example.test',
      coldStart: 'https://example.test',
    })
  })

  it('validates its options', () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    expect(() => paramsMiddleware(null as never)).toThrow(invalid)
    expect(() => paramsMiddleware({ fetch: null as never })).toThrow(invalid)
    expect(() => paramsMiddleware({ fetch: { x: '/app/url' as never } })).toThrow(/fetch\.x/)
    expect(() => paramsMiddleware({ fetch: { x: ssm.ref('/x') }, setToContext: 'yes' as never })).toThrow(
      invalid,
    )
  })
})

describe('paramsMiddleware under simulateLambda', () => {
  let lambda: Simulation | undefined
  afterAll(async () => {
    await lambda?.stop()
  })

  it('makes no remote call on warm invocations; each cold environment makes one batched pass', async () => {
    lambda = simulateLambda({
      handler: `${fileURLToPath(new URL('./fixtures/params-handler.mjs', import.meta.url))}#handler`,
      env: { LOCAL_AWS_ENDPOINT: aws.endpoint },
    })
    const cold = await lambda.invoke({ n: 1 })
    expect(cold).toMatchObject({ ok: true, coldStart: true })
    expect(cold.result).toMatchObject({
      on: true,
      url: 'https://example.test',
      hosts: ['a', 'b'],
      user: 'app',
      p11: 'v11',
    })
    // 15 SSM names: 2 GetParameters (10 + 5); 2 secrets: 1 BatchGetSecretValue.
    expect(aws.callCount({ service: 'ssm', operation: 'GetParameters' })).toBe(2)
    expect(aws.callCount({ service: 'secretsmanager', operation: 'BatchGetSecretValue' })).toBe(1)
    expect(aws.calls).toHaveLength(3)
    for (let n = 2; n <= 5; n++) {
      const warm = await lambda.invoke({ n })
      expect(warm).toMatchObject({ ok: true, coldStart: false, result: { event: { n } } })
    }
    expect(aws.calls).toHaveLength(3)
    // Two more environments at once: each is cold, each makes its own 3 calls.
    const burst = await lambda.burst([{ n: 6 }, { n: 7 }])
    expect(burst.filter((invocation) => invocation.coldStart)).toHaveLength(1)
    expect(burst.every((invocation) => invocation.ok)).toBe(true)
    expect(aws.calls).toHaveLength(6)
  })
})

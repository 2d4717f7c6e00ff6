import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { trackInvocation } from '@warmstart/core/internal'
import {
  FetchTimeoutError,
  ParamsResolveError,
  paramsMiddleware,
  secretsManager,
  ssmParameters,
  ttlCache,
} from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import { fakeClock, type LocalAws, startLocalAws } from '@warmstart/testing'
import { lambdaContext, recordEvents, recordingLogger } from '@warmstart/testing/doubles'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let aws: LocalAws
let ssmClient: SSMClient
let smClient: SecretsManagerClient

beforeAll(async () => {
  aws = await startLocalAws({
    parameters: { '/app/url': 'https://example.test', '/app/flags': '{"on":true}' },
    secrets: { 'prod/db': '{"user":"app","password":"one"}' },
  })
  // The SDK's default retry policy (3 attempts, its own backoff): what a handler gets.
  ssmClient = new SSMClient({ ...aws.clientConfig })
  smClient = new SecretsManagerClient({ ...aws.clientConfig })
})

afterAll(async () => {
  ssmClient.destroy()
  smClient.destroy()
  await aws.stop()
})

beforeEach(() => {
  aws.clearFaults()
  aws.resetCalls()
})

// A Middy request as the chain passes it; typed for any spec, since the context is filled in by before().
const request = (context: ReturnType<typeof lambdaContext>) =>
  ({ event: {}, context, response: undefined, error: undefined }) as never

describe('deadlines', () => {
  // First in the file: no invocation has been tracked yet in this process.
  it('outside an invocation a fetch is bounded by fetchTimeout', async () => {
    const cache = ttlCache<string>({ fetchTimeout: 20 })
    const error = await cache.get('k', () => new Promise<string>(() => {})).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_PARAMS_TIMEOUT', budgetMs: 20 })
    // The loader's signal is aborted with the budget, so it can stop its request.
    let aborted: AbortSignal | undefined
    await cache
      .get('j', (_key, signal) => {
        aborted = signal
        return new Promise<string>(() => {})
      })
      .catch(() => undefined)
    expect(aborted?.aborted).toBe(true)
  })

  it('SSM hangs with a stale value in hand: the stale value is served once staleAfter has passed', async () => {
    const clock = fakeClock()
    const recorder = recordEvents('cache.stale-served')
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      clock,
      ttl: '1m',
      jitter: 0,
      staleIfError: '1h',
    })
    expect(await ssm.get('/app/url')).toBe('https://example.test')
    clock.advance('2m')
    aws.injectFault({ service: 'ssm', kind: 'hang', times: Number.POSITIVE_INFINITY })
    const started = performance.now()
    expect(await ssm.get('/app/url')).toBe('https://example.test')
    const took = performance.now() - started
    recorder.stop()
    // Why it was served stale: the refresh had no answer within its budget (default staleAfter).
    expect(recorder.events).toEqual([
      expect.objectContaining({ key: '/app/url', code: 'ERR_PARAMS_TIMEOUT', ageMs: 120_000 }),
    ])
    // Before: 9.1 s (3 SDK attempts of 3 s). The budget is 200 ms; the bound is generous for a
    // loaded machine and still far below any function timeout.
    expect(took).toBeLessThan(2_000)
    // The SDK's request was aborted with the budget: one attempt reached the server, not three
    // (the other call is the first fetch).
    expect(aws.callCount({ service: 'ssm', operation: 'GetParameters' })).toBe(2)
  })

  it('without a value in hand: a typed error before the function times out, in paramsMiddleware', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient), deadlineMargin: '300ms' })
    const middleware = paramsMiddleware({ fetch: { url: ssm.ref('/app/url') } })
    aws.injectFault({ service: 'ssm', kind: 'hang', times: Number.POSITIVE_INFINITY })
    const context = lambdaContext({ remainingMs: 1_500 })
    const started = performance.now()
    const error = await Promise.resolve(middleware.before?.(request(context))).catch((e: unknown) => e)
    const took = performance.now() - started
    expect(error).toBeInstanceOf(ParamsResolveError)
    const cause = (error as ParamsResolveError).failures[0]?.error
    expect(cause).toBeInstanceOf(FetchTimeoutError)
    expect(cause).toMatchObject({ code: 'ERR_PARAMS_TIMEOUT', key: '/app/url' })
    // The budget is what the invocation had left less the margin: at most 1500 - 300 ms.
    expect((cause as FetchTimeoutError).budgetMs).toBeLessThanOrEqual(1_200)
    expect((cause as FetchTimeoutError).budgetMs).toBeGreaterThan(0)
    // Before the function's own timeout (1.5 s), which would have killed the environment.
    expect(took).toBeLessThan(1_500)
  })

  it('10 simulated minutes of 5xx: calls stay within the backoff schedule, 0 invocations fail, 2 log lines', async () => {
    const clock = fakeClock()
    const logger = recordingLogger()
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      clock,
      ttl: '1m',
      jitter: 0,
      staleIfError: '1h',
      random: () => 0.5,
      logger,
    })
    const middleware = paramsMiddleware({
      fetch: { url: ssm.ref('/app/url'), flags: ssm.ref('/app/flags', { transform: 'json' }) },
    })
    await middleware.before?.(request(lambdaContext()))
    aws.resetCalls()
    aws.injectFault({ service: 'ssm', kind: 'server-error', times: Number.POSITIVE_INFINITY })
    let failed = 0
    // One invocation every 5 s for 10 minutes.
    for (let t = 5; t <= 600; t += 5) {
      clock.advance('5s')
      const context = lambdaContext() as ReturnType<typeof lambdaContext> & Record<string, unknown>
      try {
        await middleware.before?.(request(context))
        expect(context.url).toBe('https://example.test')
        await middleware.after?.(request(context))
      } catch {
        failed++
      }
    }
    expect(failed).toBe(0)
    // The expected bound: the value expires at 60 s; each failed refresh waits 1 s doubled per
    // failure up to 60 s, times 0.75 (random 0.5). Invocations every 5 s then refresh at 60, 65,
    // 70, 75, 85, 100, 125 s, and every 45 s after that until 600 s: 17 refreshes. The two names
    // share each one (one GetParameters), and the SDK makes at most 3 attempts of it.
    const refreshes = ssm.stats().refreshes
    expect(refreshes).toBeLessThanOrEqual(17 * 2)
    const calls = aws.callCount({ service: 'ssm', operation: 'GetParameters' })
    expect(calls).toBeGreaterThanOrEqual(17)
    expect(calls).toBeLessThanOrEqual(17 * 3)
    // Every call asked for both names: the keys of one batch back off together.
    expect(aws.calls.every((call) => call.names.length === 2)).toBe(true)
    // One warning when the outage started; nothing more during it.
    expect(logger.lines.map((line) => line.level)).toEqual(['warn'])
    const { failures } = ssm.stats()
    aws.clearFaults()
    clock.advance('1m')
    await middleware.before?.(request(lambdaContext()))
    // And one when refreshes succeed again, with the count of failures in between.
    expect(logger.lines.map((line) => line.level)).toEqual(['warn', 'info'])
    expect(logger.lines[1]?.message).toMatch(/succeed again/)
    expect(logger.lines[1]?.details).toMatchObject({ failures })
  })
})

describe('reads that join a fetch in flight', () => {
  // Under Managed Instances invocations overlap, and one with little time left can find a fetch
  // that an invocation with much more time started: it must give up by its own deadline.
  afterEach(() => {
    // Between invocations again: the tests after these have no invocation deadline.
    trackInvocation({ awsRequestId: 'between-invocations' })
  })

  it('an invocation with less time left gives up by its own deadline, in paramsMiddleware', async () => {
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      fetchTimeout: '3s',
      deadlineMargin: '300ms',
    })
    const middleware = paramsMiddleware({ fetch: { url: ssm.ref('/app/url') } })
    aws.injectFault({ service: 'ssm', kind: 'hang', times: Number.POSITIVE_INFINITY })
    const long = Promise.resolve(middleware.before?.(request(lambdaContext({ remainingMs: 30_000 })))).catch(
      (e: unknown) => e,
    )
    const started = performance.now()
    const error = await Promise.resolve(
      middleware.before?.(request(lambdaContext({ remainingMs: 1_500 }))),
    ).catch((e: unknown) => e)
    const took = performance.now() - started
    expect(aws.callCount({ service: 'ssm' })).toBe(1)
    const cause = (error as ParamsResolveError).failures?.[0]?.error
    expect(cause).toBeInstanceOf(FetchTimeoutError)
    expect((cause as FetchTimeoutError).budgetMs).toBeLessThanOrEqual(1_200)
    expect(took).toBeLessThan(1_500)
    // The fetch went on for the invocation with time left, which gets its own budget's error.
    const first = (await long) as ParamsResolveError
    expect(first.failures[0]?.error).toMatchObject({ code: 'ERR_PARAMS_TIMEOUT', budgetMs: 3_000 })
  })

  it('with a stale value in hand the short invocation is served it, and the fetch still lands for the long one', async () => {
    const clock = fakeClock()
    const cache = ttlCache<string>({ clock, ttl: '1m', jitter: 0, staleIfError: '1h', staleAfter: '10s' })
    expect(await cache.get('k', async () => 'old')).toBe('old')
    clock.advance('2m')
    let answer!: (value: string) => void
    trackInvocation(lambdaContext({ requestId: 'join-long', remainingMs: 30_000 }))
    const long = cache.get(
      'k',
      () =>
        new Promise<string>((resolve) => {
          answer = resolve
        }),
    )
    trackInvocation(lambdaContext({ requestId: 'join-short', remainingMs: 400 }))
    const recorder = recordEvents('cache.stale-served')
    const short = await cache.get('k', async () => 'unused')
    recorder.stop()
    expect(short).toBe('old')
    expect(recorder.events).toHaveLength(1)
    answer('new')
    expect(await long).toBe('new')
    expect(await cache.get('k', async () => 'unused')).toBe('new')
  })
})

describe('backoff after timeouts', () => {
  it('keys of one batch that time out together (each on its own timer) back off together', async () => {
    const clock = fakeClock()
    const ssm = ssmParameters({
      client: fromSsmClient(ssmClient),
      clock,
      ttl: '1m',
      jitter: 0,
      staleIfError: '1h',
      staleAfter: 30,
    })
    const names = ['/app/url', '/app/flags']
    await Promise.all(names.map((name) => ssm.get(name)))
    aws.resetCalls()
    aws.injectFault({ service: 'ssm', kind: 'hang', times: Number.POSITIVE_INFINITY })
    clock.advance('1m')
    for (let i = 0; i < 12; i++) {
      clock.advance('5s')
      expect(await Promise.all(names.map((name) => ssm.get(name)))).toHaveLength(2)
    }
    // Every refresh asked for both names in one request, never one name alone.
    expect(aws.calls.length).toBeGreaterThan(0)
    expect(aws.calls.every((call) => call.names.length === 2)).toBe(true)
    expect(ssm.stats().refreshes).toBe(2 * aws.calls.length)
  })
})

describe('one remote value, one entry', () => {
  it('refresh(id) after a rotation: the next json read returns the new value', async () => {
    const secrets = secretsManager({ client: fromSecretsManagerClient(smClient) })
    const before = await secrets.get<{ password: string }>('prod/db', { transform: 'json' })
    expect(before.password).toBe('one')
    aws.rotateSecret('prod/db', '{"user":"app","password":"two"}')
    // As after a rejected password: no options.
    expect(await secrets.refresh('prod/db')).toBe('{"user":"app","password":"two"}')
    const after = await secrets.get<{ password: string }>('prod/db', { transform: 'json' })
    expect(after.password).toBe('two')
    const raw = await secrets.get('prod/db')
    expect(raw).toBe('{"user":"app","password":"two"}')
  })

  it('views come from one fetch; refresh reaches every version stage read; invalidate forgets them all', async () => {
    aws.putSecret('staged', 'v1')
    aws.rotateSecret('staged', 'v2')
    const secrets = secretsManager({ client: fromSecretsManagerClient(smClient) })
    aws.resetCalls()
    expect(await secrets.get('staged')).toBe('v2')
    expect(await secrets.get('staged', { transform: 'binary' }).catch((e: unknown) => e)).toMatchObject({
      code: 'ERR_PARAMETER_TRANSFORM',
    })
    expect(await secrets.get('staged', { versionStage: 'AWSPREVIOUS' })).toBe('v1')
    expect(aws.calls).toHaveLength(2)
    aws.rotateSecret('staged', 'v3')
    expect(await secrets.refresh('staged')).toBe('v3')
    expect(await secrets.get('staged', { versionStage: 'AWSPREVIOUS' })).toBe('v2')
    expect(secrets.invalidate('staged')).toBe(true)
    expect(secrets.invalidate('staged')).toBe(false)
  })

  it('ssm: refresh(name) reaches the json view and the decrypt: false read', async () => {
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    aws.putParameter('/app/rotating', '{"v":1}')
    expect(await ssm.get('/app/rotating', { transform: 'json' })).toEqual({ v: 1 })
    expect(await ssm.get('/app/rotating', { decrypt: false })).toBe('{"v":1}')
    aws.putParameter('/app/rotating', '{"v":2}')
    aws.resetCalls()
    expect(await ssm.refresh('/app/rotating')).toBe('{"v":2}')
    expect(await ssm.get('/app/rotating', { transform: 'json' })).toEqual({ v: 2 })
    expect(await ssm.get('/app/rotating', { decrypt: false })).toBe('{"v":2}')
    // Both reads were fetched again in one tick: one GetParameters per decrypt mode.
    expect(aws.calls).toHaveLength(2)
    expect(ssm.invalidate('/app/rotating')).toBe(true)
    expect(ssm.invalidate('/app/rotating')).toBe(false)
  })
})

describe('options', () => {
  it('rejects misspelt options with the closest name, naming the factory the user called', async () => {
    expect(() => ssmParameters({ tll: '5m' } as never)).toThrow(/ssmParameters.*did you mean "ttl"/)
    expect(() => secretsManager({ bach: false } as never)).toThrow(/secretsManager.*did you mean "batch"/)
    expect(() => ttlCache({ staleIfErorr: '1m' } as never)).toThrow(/ttlCache.*did you mean "staleIfError"/)
    expect(() => ssmParameters({ backoff: { bsae: '1s' } } as never)).toThrow(/did you mean "backoff.base"/)
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    await expect(ssm.get('/app/flags', { transfrom: 'json' } as never)).rejects.toThrow(
      /did you mean "transform"/,
    )
    expect(() => ssm.ref('/app/flags', { transfrom: 'json' } as never)).toThrow(/did you mean "transform"/)
    expect(() => paramsMiddleware({ fetch: {}, setToContex: true } as never)).toThrow(
      /did you mean "setToContext"/,
    )
  })

  it("a bad ttl names ssmParameters and lists 'forever'", () => {
    expect(() => ssmParameters({ ttl: '5 minutes' as never })).toThrow(
      /^ssmParameters: option "ttl".*'forever'/,
    )
  })
})

describe('edges', () => {
  it('ttlCache.get rejects a bad key, loader or ttl, and never throws', async () => {
    const cache = ttlCache<number>()
    const invalid = { code: 'ERR_INVALID_OPTION' }
    await expect(cache.get('', async () => 1)).rejects.toMatchObject(invalid)
    await expect(cache.get('k', 1 as never)).rejects.toMatchObject(invalid)
    await expect(cache.get('k', async () => 1, { ttl: 'soon' as never })).rejects.toMatchObject(invalid)
    expect(cache.has('k')).toBe(false)
  })

  it('views of a StringList and of a binary secret read the value as the service stores it', async () => {
    aws.putParameter('/app/list', { value: 'YQ==,Yg==', type: 'StringList' })
    aws.putSecret('bin/json', new TextEncoder().encode('{"k":1}'))
    const ssm = ssmParameters({ client: fromSsmClient(ssmClient) })
    expect(await ssm.get<string[]>('/app/list')).toEqual(['YQ==', 'Yg=='])
    await expect(ssm.get('/app/list', { transform: 'binary' })).rejects.toMatchObject({
      code: 'ERR_PARAMETER_TRANSFORM',
    })
    const secrets = secretsManager({ client: fromSecretsManagerClient(smClient) })
    expect(await secrets.get('bin/json', { transform: 'json' })).toEqual({ k: 1 })
    expect(await secrets.get('bin/json', { transform: 'binary' })).toEqual(
      new TextEncoder().encode('{"k":1}'),
    )
    // An optional read of a missing parameter has views too: undefined.
    expect(await ssm.get('/app/none', { optional: true, transform: 'json' })).toBeUndefined()
  })

  it('a batch whose every waiter has given up is aborted; invalidate checks its name', async () => {
    expect(() => ssmParameters({ client: fromSsmClient(ssmClient) }).invalidate('')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    const { MicrotaskBatcher } = await import('../src/batcher.js')
    let seen: AbortSignal | undefined
    const batcher = new MicrotaskBatcher<string>(10, (_keys, signal) => {
      seen = signal
      return new Promise(() => {})
    })
    const gone = new AbortController()
    gone.abort()
    void batcher.load('a', gone.signal)
    await Promise.resolve()
    expect(seen?.aborted).toBe(true)
  })
})

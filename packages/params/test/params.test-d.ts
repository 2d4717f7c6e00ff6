import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'
import middy, { type MiddlewareObj } from '@middy/core'
import {
  type ParamRef,
  type ParamsOf,
  paramsMiddleware,
  secretsManager,
  ssmParameters,
  type TtlCache,
  ttlCache,
} from '@warmstart/params'
import { fromSecretsManagerClient } from '@warmstart/params/secrets-manager-sdk'
import { fromSsmClient } from '@warmstart/params/ssm-sdk'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, it } from 'vitest'

/** The context type a Middy handler is called with. */
type ContextOf<H extends (event: never, context: never) => unknown> = Parameters<H>[1]

declare const ssmClient: SSMClient
declare const secretsClient: SecretsManagerClient
const ssm = ssmParameters({ client: fromSsmClient(ssmClient), ttl: '5m', jitter: 0.1, staleIfError: '10m' })
const secrets = secretsManager({ client: fromSecretsManagerClient(secretsClient), ttl: 'forever' })

describe('types', () => {
  it('types get from its options', () => {
    expectTypeOf(ssm.get('/a')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(ssm.get<string[]>('/list')).toEqualTypeOf<Promise<string[]>>()
    expectTypeOf(ssm.get('/a', { optional: true })).toEqualTypeOf<Promise<string | undefined>>()
    expectTypeOf(ssm.get('/a', { transform: 'json' })).toEqualTypeOf<Promise<unknown>>()
    // JSON values are frozen deeply, and typed so.
    expectTypeOf(ssm.get<{ on: boolean; tags: string[] }>('/a', { transform: 'json' })).toEqualTypeOf<
      Promise<{ readonly on: boolean; readonly tags: readonly string[] }>
    >()
    expectTypeOf(ssm.get<{ on: boolean }>('/a', { transform: 'json', optional: true })).toEqualTypeOf<
      Promise<{ readonly on: boolean } | undefined>
    >()
    expectTypeOf(ssm.get('/a', { transform: 'binary' })).toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf(secrets.get('s')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(secrets.get('s', { transform: 'binary' })).toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf(secrets.get<{ password: string }>('s', { transform: 'json' })).toEqualTypeOf<
      Promise<{ readonly password: string }>
    >()
    // @ts-expect-error: not a transform
    ssm.get('/a', { transform: 'yaml' })
    // @ts-expect-error: a raw SSM value is a string or a StringList
    ssm.get<number>('/a')
  })

  it('flows types from refs through the middleware spec to the context', () => {
    const fetch = {
      flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }),
      url: ssm.ref('/app/url'),
      maybe: ssm.ref('/app/maybe', { optional: true }),
      password: secrets.ref('db/password'),
    }
    expectTypeOf(fetch.flags).toEqualTypeOf<ParamRef<{ readonly on: boolean }>>()
    expectTypeOf<ParamsOf<typeof fetch>>().toEqualTypeOf<{
      flags: { readonly on: boolean }
      url: string
      maybe: string | undefined
      password: string
    }>()
    const handler = middy(
      async (_event: unknown, context: Context & ParamsOf<typeof fetch>) => context.flags.on,
    ).use(paramsMiddleware({ fetch }))
    expectTypeOf(handler).not.toBeNever()
    expectTypeOf<ContextOf<typeof handler>>().toExtend<Context & ParamsOf<typeof fetch>>()
    expectTypeOf(handler).returns.resolves.toEqualTypeOf<boolean>()
  })

  it('puts the spec on the context of a handler that comes after it in a Middy chain, without a cast', () => {
    const fetch = { flags: ssm.ref<{ on: boolean }>('/app/flags', { transform: 'json' }), url: ssm.ref('/u') }
    const handler = middy()
      .use(paramsMiddleware({ fetch }))
      .handler(async (_event: unknown, context) => {
        expectTypeOf(context.flags).toEqualTypeOf<{ readonly on: boolean }>()
        expectTypeOf(context.url).toEqualTypeOf<string>()
        expectTypeOf(context.awsRequestId).toEqualTypeOf<string>()
        return context.flags.on
      })
    expectTypeOf<ContextOf<typeof handler>>().toExtend<Context & ParamsOf<typeof fetch>>()
    expectTypeOf(paramsMiddleware({ fetch, setToContext: true })).toEqualTypeOf(paramsMiddleware({ fetch }))
  })

  it('composes with other middlewares and a typed handler in either order', () => {
    const fetch = { url: ssm.ref('/u') }
    const counting: MiddlewareObj<unknown, unknown, Error, Context & { count: number }> = {}
    const first = middy(async (_event: unknown, context: Context) => context.functionName)
      .use(counting)
      .use(paramsMiddleware({ fetch }))
    const last = middy(async (_event: unknown, context: Context) => context.functionName)
      .use(paramsMiddleware({ fetch }))
      .use(counting)
    for (const handler of [first, last]) {
      expectTypeOf<ContextOf<typeof handler>>().toExtend<Context & { count: number; url: string }>()
      expectTypeOf(handler).returns.resolves.toEqualTypeOf<string>()
    }
  })

  it('promises nothing on the context with setToContext false or a boolean not known when compiling', () => {
    const fetch = { url: ssm.ref('/u') }
    const warmOnly = middy().use(paramsMiddleware({ fetch, setToContext: false }))
    expectTypeOf<ContextOf<typeof warmOnly>>().not.toHaveProperty('url')
    expectTypeOf<ContextOf<typeof warmOnly>>().toExtend<Context>()
    const setToContext = process.env.FLAG === '1'
    const maybe = middy().use(paramsMiddleware({ fetch, setToContext }))
    expectTypeOf<ContextOf<typeof maybe>>().not.toHaveProperty('url')
    // @ts-expect-error: setToContext is a boolean
    paramsMiddleware({ fetch, setToContext: 'yes' })
  })

  it('types the cache', () => {
    const cache: TtlCache<string> = ttlCache<string>({ ttl: '1m' })
    expectTypeOf(cache.get('k', async () => 'v')).toEqualTypeOf<Promise<string>>()
    // @ts-expect-error: the loader must give the cache's value type
    cache.get('k', async () => 1)
  })
})

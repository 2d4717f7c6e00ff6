import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import {
  type ParamRef,
  type ParamsOf,
  paramsMiddleware,
  secretsManager,
  ssmParameters,
  type TtlCache,
  ttlCache,
} from '@warmstart/params'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, it } from 'vitest'

declare const ssmClient: SSMClient
declare const secretsClient: SecretsManagerClient
const ssm = ssmParameters({ client: ssmClient, ttl: '5m', jitter: 0.1, staleIfError: '10m' })
const secrets = secretsManager({ client: secretsClient, ttl: 'forever' })

describe('types', () => {
  it('types get from its options', () => {
    expectTypeOf(ssm.get('/a')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(ssm.get<string[]>('/list')).toEqualTypeOf<Promise<string[]>>()
    expectTypeOf(ssm.get('/a', { optional: true })).toEqualTypeOf<Promise<string | undefined>>()
    expectTypeOf(ssm.get('/a', { transform: 'json' })).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(ssm.get<{ on: boolean }>('/a', { transform: 'json' })).toEqualTypeOf<
      Promise<{ on: boolean }>
    >()
    expectTypeOf(ssm.get<{ on: boolean }>('/a', { transform: 'json', optional: true })).toEqualTypeOf<
      Promise<{ on: boolean } | undefined>
    >()
    expectTypeOf(ssm.get('/a', { transform: 'binary' })).toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf(secrets.get('s')).toEqualTypeOf<Promise<string>>()
    expectTypeOf(secrets.get('s', { transform: 'binary' })).toEqualTypeOf<Promise<Uint8Array>>()
    expectTypeOf(secrets.get<{ password: string }>('s', { transform: 'json' })).toEqualTypeOf<
      Promise<{ password: string }>
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
    expectTypeOf(fetch.flags).toEqualTypeOf<ParamRef<{ on: boolean }>>()
    expectTypeOf<ParamsOf<typeof fetch>>().toEqualTypeOf<{
      flags: { on: boolean }
      url: string
      maybe: string | undefined
      password: string
    }>()
    const handler = middy(
      async (_event: unknown, context: Context & ParamsOf<typeof fetch>) => context.flags.on,
    ).use(paramsMiddleware({ fetch }))
    expectTypeOf(handler).toBeFunction()
  })

  it('types the cache', () => {
    const cache: TtlCache<string> = ttlCache<string>({ ttl: '1m' })
    expectTypeOf(cache.get('k', async () => 'v')).toEqualTypeOf<Promise<string>>()
    // @ts-expect-error: the loader must give the cache's value type
    cache.get('k', async () => 1)
  })
})

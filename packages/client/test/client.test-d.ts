import { SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import {
  type AsyncLazy,
  awsClient,
  type ClientsContext,
  clientsMiddleware,
  lazy,
  type SyncLazy,
} from '@warmstart/client'
import type { Middleware } from '@warmstart/core'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, it } from 'vitest'

describe('lazy types', () => {
  it('gives a sync get() for a sync factory and a promise for an async one', () => {
    const sync = lazy(() => new Map<string, number>())
    expectTypeOf(sync).toEqualTypeOf<SyncLazy<Map<string, number>>>()
    expectTypeOf(sync.get()).toEqualTypeOf<Map<string, number>>()
    const async = lazy(async () => 42)
    expectTypeOf(async).toEqualTypeOf<AsyncLazy<number>>()
    expectTypeOf(async.get()).toEqualTypeOf<Promise<number>>()
    expectTypeOf(async.peek()).toEqualTypeOf<number | undefined>()
    expectTypeOf(async.reset()).toEqualTypeOf<Promise<void>>()
  })

  it('hands an async factory an AbortSignal, and still takes factories without one', () => {
    const withSignal = lazy(async (signal: AbortSignal) => String(signal.aborted), { createTimeout: '5s' })
    expectTypeOf(withSignal).toEqualTypeOf<AsyncLazy<string>>()
    lazy(async (signal) => expectTypeOf(signal).toEqualTypeOf<AbortSignal>())
    // A factory passed by name whose optional first parameter is not a signal stays an async lazy.
    const connect = async (options?: { host?: string }) => ({ host: options?.host ?? 'localhost' })
    expectTypeOf(lazy(connect)).toEqualTypeOf<AsyncLazy<{ host: string }>>()
    // @ts-expect-error createTimeout is for async factories: a sync one never waits
    lazy(() => 1, { createTimeout: '5s' })
  })

  it('types validate and dispose by the instance; a sync lazy takes only a sync validate', () => {
    lazy(async () => ({ open: true }), { validate: async (c) => c.open, dispose: async (c) => void c.open })
    lazy(() => ({ open: true }), { validate: (c) => c.open })
    // @ts-expect-error an async validate needs an async factory
    lazy(() => ({ open: true }), { validate: async (c: { open: boolean }) => c.open })
  })
})

describe('awsClient types', () => {
  it('returns the class instance and checks the config against the class', () => {
    expectTypeOf(awsClient(SSMClient)).toEqualTypeOf<SSMClient>()
    expectTypeOf(awsClient(SSMClient, { region: 'eu-west-1', maxAttempts: 2 })).toEqualTypeOf<SSMClient>()
    // @ts-expect-error not an SSMClient option
    awsClient(SSMClient, { regoin: 'eu-west-1' })
  })
})

describe('clientsMiddleware types', () => {
  it('describes the context it fills and fits a middy chain', () => {
    const lazies = { ssm: lazy(() => new SSMClient({})), flags: lazy(async () => ({ beta: true })) }
    expectTypeOf<ClientsContext<typeof lazies>>().toEqualTypeOf<
      { coldStart: boolean } & { ssm: SSMClient; flags: { beta: boolean } }
    >()
    const middleware = clientsMiddleware(lazies, { setToContext: true })
    expectTypeOf(middleware).toMatchTypeOf<Middleware>()
    middy(async (_event: unknown, context: Context & ClientsContext<typeof lazies>) => {
      expectTypeOf(context.ssm).toEqualTypeOf<SSMClient>()
      return context.flags.beta
    }).use(middleware)
  })
})

import type { Middleware, WarmstartEventMap } from '@warmstart/core'
import {
  configureShutdown,
  environmentAge,
  initDuration,
  invocationCount,
  isColdStart,
  lifecycleMiddleware,
  onShutdown,
  type SettleReport,
  type StartKind,
  settleBackgroundWork,
  startKind,
  waitUntil,
} from '@warmstart/lifecycle'
import { describe, expectTypeOf, it } from 'vitest'

describe('the public API of @warmstart/lifecycle', () => {
  it('has the shape pg and handlers rely on', () => {
    expectTypeOf(onShutdown).toEqualTypeOf<(fn: () => void | Promise<void>) => () => void>()
    expectTypeOf(isColdStart).returns.toEqualTypeOf<boolean>()
    expectTypeOf(startKind).returns.toEqualTypeOf<StartKind>()
    expectTypeOf<StartKind>().toEqualTypeOf<'cold' | 'warm' | 'provisioned' | 'snap-start-restore'>()
    expectTypeOf(initDuration).returns.toEqualTypeOf<number | undefined>()
    expectTypeOf(invocationCount).returns.toEqualTypeOf<number>()
    expectTypeOf(environmentAge).returns.toEqualTypeOf<number>()
    expectTypeOf(waitUntil).parameter(0).toEqualTypeOf<PromiseLike<unknown>>()
    expectTypeOf(waitUntil).returns.toEqualTypeOf<void>()
    expectTypeOf(settleBackgroundWork).returns.resolves.toEqualTypeOf<SettleReport>()
    expectTypeOf(lifecycleMiddleware()).toEqualTypeOf<Middleware>()
    expectTypeOf(configureShutdown).parameter(0).toHaveProperty('deadline')
  })

  it('declares its events', () => {
    expectTypeOf<WarmstartEventMap['lifecycle.invoke']['startKind']>().toEqualTypeOf<StartKind>()
    expectTypeOf<WarmstartEventMap['lifecycle.init']['callerPaidInit']>().toEqualTypeOf<boolean>()
    expectTypeOf<WarmstartEventMap['lifecycle.wait-timeout']['names']>().toEqualTypeOf<string[]>()
    expectTypeOf<WarmstartEventMap['lifecycle.shutdown']['timedOut']>().toEqualTypeOf<number>()
  })

  it('rejects wrong arguments', () => {
    // @ts-expect-error a shutdown handler takes no argument
    onShutdown((signal: string) => signal)
    // @ts-expect-error margin is a duration
    lifecycleMiddleware({ margin: true })
  })
})

import { describe, expectTypeOf, it } from 'vitest'
import {
  type EnvironmentInfo,
  type ExitStatus,
  type Invocation,
  type SimulateLambdaOptions,
  type Simulation,
  simulateLambda,
} from '../src/index.js'

describe('simulateLambda types', () => {
  it('takes the options and returns a Simulation', () => {
    expectTypeOf(simulateLambda).parameter(0).toEqualTypeOf<SimulateLambdaOptions>()
    expectTypeOf(simulateLambda).returns.toEqualTypeOf<Simulation>()
    expectTypeOf<SimulateLambdaOptions['timeout']>().toEqualTypeOf<
      number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}` | undefined
    >()
    expectTypeOf<SimulateLambdaOptions['mode']>().toEqualTypeOf<'classic' | 'managed-instances' | undefined>()
    expectTypeOf<SimulateLambdaOptions['initType']>().toEqualTypeOf<
      'on-demand' | 'provisioned-concurrency' | 'snap-start' | undefined
    >()
    // @ts-expect-error handler is required
    simulateLambda({ memoryMB: 512 })
  })

  it('types invocations and environments', () => {
    expectTypeOf<Simulation['invoke']>().returns.resolves.toEqualTypeOf<Invocation>()
    expectTypeOf<Simulation['invoke']>().parameter(1).toEqualTypeOf<{ environment?: string } | undefined>()
    expectTypeOf<Simulation['burst']>().returns.resolves.toEqualTypeOf<Invocation[]>()
    expectTypeOf<Simulation['environments']>().returns.toEqualTypeOf<readonly EnvironmentInfo[]>()
    expectTypeOf<EnvironmentInfo['state']>().toEqualTypeOf<'frozen' | 'busy' | 'idle'>()
    expectTypeOf<Simulation['shutdown']>().returns.resolves.toEqualTypeOf<ExitStatus[]>()
    expectTypeOf<Invocation['result']>().toEqualTypeOf<unknown>()
    expectTypeOf<Invocation['error']>().toEqualTypeOf<
      { name: string; message: string; code?: string } | undefined
    >()
    expectTypeOf<Invocation['initDurationMs']>().toEqualTypeOf<number | undefined>()
  })
})

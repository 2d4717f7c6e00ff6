import { describe, expect, it } from 'vitest'
import { fixture, processState, simulate } from './lambda-helpers.js'

const managed = `${fixture('managed.mjs')}#handler`

interface ManagedReport {
  pid: number
  seen: string[]
  maxInFlight: number
  served: number
  concurrency: string
}

describe("simulateLambda: mode 'managed-instances'", () => {
  it('serves concurrent invocations in one process, each in its own invoke store context', async () => {
    const lambda = simulate({ handler: managed, mode: 'managed-instances', maxConcurrency: 4 })
    const burst = await lambda.burst([{ ms: 60 }, { ms: 20 }, { ms: 40 }, { ms: 10 }])
    const reports = burst.map((invocation) => invocation.result as ManagedReport)
    expect(new Set(burst.map((invocation) => invocation.pid)).size).toBe(1)
    expect(new Set(burst.map((invocation) => invocation.environment))).toEqual(new Set(['env-1']))
    // Module state is shared: all four were in flight together, and the counter counts them all.
    expect(reports.map((report) => report.maxInFlight)).toEqual([4, 4, 4, 4])
    expect(reports.map((report) => report.served).sort()).toEqual([4, 4, 4, 4])
    for (const [index, invocation] of burst.entries()) {
      // Before, across and after awaits, the invoke store and core's currentRequestId() name this invocation.
      expect(reports[index]!.seen).toEqual([
        invocation.requestId,
        invocation.requestId,
        invocation.requestId,
        invocation.requestId,
      ])
      expect(invocation.logs).toEqual([`served ${invocation.requestId}`])
      expect(invocation.coldStart).toBe(true)
    }
    expect(reports[0]!.concurrency).toBe('4')
  })

  it('starts another environment beyond maxConcurrency and never freezes one', async () => {
    const lambda = simulate({ handler: managed, mode: 'managed-instances', maxConcurrency: 2 })
    const burst = await lambda.burst([{ ms: 30 }, { ms: 30 }, { ms: 30 }])
    expect(burst.map((invocation) => invocation.environment)).toEqual(['env-1', 'env-1', 'env-2'])
    expect(lambda.environments().map((environment) => environment.state)).toEqual(['idle', 'idle'])
    expect(processState(burst[0]!.pid)).not.toBe('T')
    const warm = await lambda.invoke({ ms: 1 })
    expect(warm.coldStart).toBe(false)
    expect((warm.result as ManagedReport).seen[0]).toBe(warm.requestId)
  })
})

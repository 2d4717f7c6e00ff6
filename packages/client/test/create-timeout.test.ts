import { lazy } from '@warmstart/client'
import { trackInvocation } from '@warmstart/core/internal'
import {
  lambdaContext,
  type OverlappingInvocations,
  overlappingInvocations,
  recordEvents,
} from '@warmstart/testing/doubles'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// An async factory that never settles (a connect to a host that drops packets, a secret fetch that
// hangs) held every later get() until reset(): each invocation waited until Lambda killed it.
beforeEach(() => {
  vi.useFakeTimers()
})
let store: OverlappingInvocations | undefined
afterEach(() => {
  vi.useRealTimers()
  store?.close()
  store = undefined
})

const never = <T>() => new Promise<T>(() => {})

/** What a promise has come to so far, read without awaiting it (a hung one would hold the test). */
function watch<T>(promise: Promise<T>): { readonly outcome: 'pending' | { value: T } | { error: unknown } } {
  const watched: { outcome: 'pending' | { value: T } | { error: unknown } } = { outcome: 'pending' }
  promise.then(
    (value) => {
      watched.outcome = { value }
    },
    (error: unknown) => {
      watched.outcome = { error }
    },
  )
  return watched
}

/** Starts an invocation with `remainingMs` left, as clientsMiddleware's trackInvocation does. */
function invocation(requestId: string, remainingMs: number): void {
  trackInvocation(lambdaContext({ requestId, remainingMs }))
}

/** Under Managed Instances: runs `fn` inside invocation `requestId`, started with `remainingMs` left. */
function during<T>(requestId: string, remainingMs: number, fn: () => T): T {
  store ??= overlappingInvocations()
  return store.run(requestId, () => {
    invocation(requestId, remainingMs)
    return fn()
  })
}

describe('an async lazy whose factory never settles', () => {
  it("fails a get() at the invocation's remaining time less 100 ms, and the next get() creates again", async () => {
    invocation('hang-1', 3_000)
    let calls = 0
    const value = lazy(async () => {
      calls++
      return calls === 1 ? never<string>() : 'connected'
    })
    const stuck = watch(value.get())
    const joined = watch(value.get())
    await vi.advanceTimersByTimeAsync(2_899)
    expect(stuck.outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    for (const waiter of [stuck, joined]) {
      expect(waiter.outcome).toMatchObject({
        error: { code: 'ERR_LAZY_TIMEOUT', name: 'LazyTimeoutError', ms: 2_900 },
      })
    }
    expect((stuck.outcome as { error: Error }).error.message).toMatch(
      /^lazy "lazy": no instance within 2900 ms \(createTimeout, or what was left of the invocation\)/,
    )
    expect(calls).toBe(1)
    invocation('hang-2', 3_000)
    await expect(value.get()).resolves.toBe('connected')
    expect(calls).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('gives up at createTimeout outside an invocation (init, a script) and aborts the signal it gave the factory', async () => {
    const recorder = recordEvents('client.')
    let signal: AbortSignal | undefined
    let calls = 0
    const value = lazy(
      async (s: AbortSignal) => {
        calls++
        signal = s
        return calls === 1 ? never<number>() : calls
      },
      { name: 'db', createTimeout: '2s' },
    )
    const stuck = watch(value.get())
    await vi.advanceTimersByTimeAsync(2_000)
    expect(stuck.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT', ms: 2_000 } })
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBe((stuck.outcome as { error: unknown }).error)
    expect(recorder.events).toMatchObject([{ type: 'client.create-timeout', name: 'db', ms: 2_000 }])
    recorder.stop()
    await expect(value.get()).resolves.toBe(2)
    expect(signal?.aborted).toBe(false)
  })

  it('disposes the late instance of an abandoned creation as superseded; it never becomes current', async () => {
    const recorder = recordEvents('client.disposed')
    const dispose = vi.fn()
    const late: Array<(value: string) => void> = []
    const value = lazy(() => new Promise<string>((resolve) => late.push(resolve)), {
      dispose,
      createTimeout: 1_000,
    })
    const stuck = watch(value.get())
    await vi.advanceTimersByTimeAsync(1_000)
    expect(stuck.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT' } })
    const fresh = value.get()
    late[1]?.('fresh')
    await expect(fresh).resolves.toBe('fresh')
    late[0]?.('late')
    await vi.advanceTimersByTimeAsync(0)
    expect(value.peek()).toBe('fresh')
    expect(dispose).toHaveBeenCalledExactlyOnceWith('late')
    expect(recorder.events).toMatchObject([{ type: 'client.disposed', reason: 'superseded' }])
    recorder.stop()
  })

  it('a prefetch at init that hangs costs the first invocation its budget, and the next invocation nothing', async () => {
    let calls = 0
    const value = lazy(async () => {
      calls++
      return calls === 1 ? never<string>() : 'ready'
    })
    value.prefetch()
    invocation('after-init-1', 1_000)
    const first = watch(value.get())
    await vi.advanceTimersByTimeAsync(900)
    expect(first.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT', ms: 900 } })
    invocation('after-init-2', 1_000)
    await expect(value.get()).resolves.toBe('ready')
    expect(calls).toBe(2)
  })

  it('a creation found past its deadline after a freeze is not joined: the next get() creates again', async () => {
    let calls = 0
    const value = lazy(
      async () => {
        calls++
        return calls === 1 ? never<string>() : 'ready'
      },
      { createTimeout: 1_000 },
    )
    value.prefetch()
    // The process froze: its clock moved on, its timers did not run.
    vi.setSystemTime(Date.now() + 5_000)
    await expect(value.get()).resolves.toBe('ready')
    expect(calls).toBe(2)
  })

  it('under managed instances, an invocation with little time left gives up alone; the creation goes on for the others', async () => {
    let connect!: (value: string) => void
    const factory = vi.fn(() => new Promise<string>((resolve) => (connect = resolve)))
    const value = lazy(factory)
    const long = during('long', 10_000, () => watch(value.get()))
    const short = during('short', 500, () => watch(value.get()))
    await vi.advanceTimersByTimeAsync(400)
    expect(short.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT', ms: 400 } })
    expect(long.outcome).toBe('pending')
    connect('pool')
    await vi.advanceTimersByTimeAsync(0)
    expect(long.outcome).toEqual({ value: 'pool' })
    expect(factory).toHaveBeenCalledTimes(1)
  })

  it("once the creation that a caller gave up on succeeds, later get()s get the instance, not that caller's timeout", async () => {
    let connect!: (value: string) => void
    const value = lazy(() => new Promise<string>((resolve) => (connect = resolve)))
    const short = during('starts-short', 500, () => watch(value.get()))
    const long = during('joins-long', 10_000, () => watch(value.get()))
    await vi.advanceTimersByTimeAsync(400)
    expect(short.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT' } })
    connect('pool')
    await vi.advanceTimersByTimeAsync(0)
    expect(long.outcome).toEqual({ value: 'pool' })
    await expect(value.get()).resolves.toBe('pool')
  })

  it('a get() that waits on a validation or its replacement gives up by its own deadline; the replacement goes on', async () => {
    let made = 0
    // The first instance's check hangs (a half-open socket); hookTimeout lets it go after 5 s.
    const value = lazy(async () => `conn-${++made}`, {
      validate: (conn) => (conn === 'conn-1' ? never<boolean>() : true),
      hookTimeout: '5s',
    })
    await expect(during('first', 10_000, () => value.get())).resolves.toBe('conn-1')
    const checks = during('checks', 300, () => watch(value.get()))
    const joins = during('joins', 10_000, () => watch(value.get()))
    await vi.advanceTimersByTimeAsync(200)
    expect(checks.outcome).toMatchObject({ error: { code: 'ERR_LAZY_TIMEOUT', ms: 200 } })
    expect(joins.outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(4_800)
    expect(joins.outcome).toEqual({ value: 'conn-2' })
    await expect(during('next', 300, () => value.get())).resolves.toBe('conn-2')
  })

  it('aborts the signal of a creation that reset() lets go', async () => {
    const signals: AbortSignal[] = []
    const value = lazy(async (signal: AbortSignal) => {
      signals.push(signal)
      return signals.length === 1 ? never<number>() : signals.length
    })
    const stuck = value.get()
    await value.reset()
    await expect(stuck).resolves.toBe(2)
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false])
  })

  it('leaves no timer behind once a creation settles, and none for a sync lazy', async () => {
    invocation('timers', 3_000)
    const value = lazy(async () => 'v')
    await value.get()
    expect(vi.getTimerCount()).toBe(0)
    lazy(() => 'sync').get()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('the createTimeout option', () => {
  it.each([
    ['a string that is not a duration', '10 seconds'],
    ['zero', 0],
    ['longer than the longest invocation', '16m'],
    ['a negative number', -1],
  ])('rejects %s', (_what, createTimeout) => {
    expect(() => lazy(async () => 1, { createTimeout: createTimeout as never })).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringMatching(/^lazy: option "createTimeout"/),
      }),
    )
  })

  it('accepts a duration up to 15 minutes', () => {
    expect(() => lazy(async () => 1, { createTimeout: '15m' })).not.toThrow()
    expect(() => lazy(async () => 1, { createTimeout: 250 })).not.toThrow()
  })
})

import { trackInvocation } from '@warmstart/core/internal'
import { boundedLru, LruLoadTimeoutError } from '@warmstart/lru'
import { lambdaContext, overlappingInvocations, recordEvents } from '@warmstart/testing/doubles'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// Issue 16: a loader that never settles blocked its key for every later caller until delete(key).
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const never = <T>() => new Promise<T>(() => {})

describe('getOrLoad under a time limit', () => {
  it('fails the callers of a load that never settles at loadTimeout, and frees the key for the next load', async () => {
    const recorder = recordEvents('lru.load-timeout')
    const cache = boundedLru<string, string>({ max: 10, name: 'slow', loadTimeout: '2s' })
    let signal: AbortSignal | undefined
    const first = cache.getOrLoad('k', (_key, s) => {
      signal = s
      return never<string>()
    })
    const joined = cache.getOrLoad('k', () => 'not called: joins the load in flight')
    const outcome = Promise.allSettled([first, joined])
    await vi.advanceTimersByTimeAsync(2_000)
    const [a, b] = await outcome
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 'ERR_LRU_LOAD_TIMEOUT', ms: 2_000 } })
    expect((a as PromiseRejectedResult).reason).toBeInstanceOf(LruLoadTimeoutError)
    expect((a as PromiseRejectedResult).reason.message).toMatch(
      /^boundedLru "slow": the loader did not settle within 2000 ms/,
    )
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'ERR_LRU_LOAD_TIMEOUT' } })
    expect(signal?.aborted).toBe(true)
    expect(recorder.events).toMatchObject([{ type: 'lru.load-timeout', cache: 'slow', ms: 2_000 }])
    recorder.stop()
    await expect(cache.getOrLoad('k', async () => 'second load')).resolves.toBe('second load')
    expect(cache.get('k')).toBe('second load')
  })

  it('drops the late result of a timed-out load: it never replaces a newer value', async () => {
    const cache = boundedLru<string, string>({ max: 10, loadTimeout: 1_000 })
    let late!: (value: string) => void
    const slow = cache.getOrLoad('k', () => new Promise<string>((resolve) => (late = resolve)))
    const failed = slow.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await failed).toBeInstanceOf(LruLoadTimeoutError)
    await cache.getOrLoad('k', () => 'fresh')
    late('stale')
    await vi.advanceTimersByTimeAsync(0)
    expect(cache.get('k')).toBe('fresh')
  })

  it("inside an invocation, gives a load no more than the invocation's remaining time less 100 ms", async () => {
    trackInvocation(lambdaContext({ remainingMs: 600, requestId: 'load-timeout-1' }))
    const cache = boundedLru<string, string>({ max: 10 })
    const load = cache.getOrLoad('k', () => never<string>()).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(500)
    expect(await load).toMatchObject({ code: 'ERR_LRU_LOAD_TIMEOUT', ms: 500 })
    // Past the invocation's deadline no invocation applies: the cap alone (30 s by default).
    await vi.advanceTimersByTimeAsync(200)
    const after = cache.getOrLoad('k', () => never<string>()).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(await after).toMatchObject({ code: 'ERR_LRU_LOAD_TIMEOUT', ms: 30_000 })
  })

  it('under managed instances, a caller with less time left than the load gives up alone; the load goes on', async () => {
    const store = overlappingInvocations()
    const during = <T>(requestId: string, remainingMs: number, fn: () => T): T =>
      store.run(requestId, () => {
        trackInvocation(lambdaContext({ requestId, remainingMs }))
        return fn()
      })
    try {
      const cache = boundedLru<string, string>({ max: 10, name: 'shared' })
      let answer!: (value: string) => void
      const long = during('joins-long', 10_000, () =>
        cache.getOrLoad('k', () => new Promise<string>((resolve) => (answer = resolve))),
      )
      const short = during('joins-short', 500, () =>
        cache.getOrLoad('k', () => 'not called: joins the load in flight').catch((error: unknown) => error),
      )
      await vi.advanceTimersByTimeAsync(400)
      const error = await short
      expect(error).toBeInstanceOf(LruLoadTimeoutError)
      expect(error).toMatchObject({ code: 'ERR_LRU_LOAD_TIMEOUT', ms: 400 })
      expect((error as Error).message).toMatch(
        /^boundedLru "shared": the load in flight did not settle within 400 ms/,
      )
      answer('value')
      expect(await long).toBe('value')
      expect(cache.get('k')).toBe('value')
    } finally {
      store.close()
      // Between invocations again: the tests after this one have no invocation deadline.
      trackInvocation({ awsRequestId: 'between-invocations' })
    }
  })

  it('clears its timer once the load settles: nothing is left to fire later', async () => {
    const cache = boundedLru<string, string>({ max: 10 })
    await cache.getOrLoad('k', async () => 'v')
    expect(vi.getTimerCount()).toBe(0)
  })
})

import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { trackInvocation } from '@warmstart/core/internal'
import { deferred, lambdaContext, recordEvents } from '@warmstart/testing/doubles'
import { tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-load-'))
})

afterEach(async () => {
  vi.useRealTimers()
  await rm(root, { recursive: true, force: true })
})

const never = <T>() => new Promise<T>(() => {})

describe('getOrLoad overtaken by a delete or a set', () => {
  it('does not store the result of a load that a delete() overtook, and the next call loads again', async () => {
    const cache = tmpCache({ dir: join(root, 'd') })
    const called = deferred()
    const result = deferred<string>()
    const first = cache.getOrLoad('k', () => {
      called.resolve()
      return result.promise
    })
    await called.promise
    await cache.delete('k')
    const second = cache.getOrLoad('k', () => 'loaded after the delete')
    result.resolve('loaded before the delete')
    expect((await first).toString()).toBe('loaded before the delete')
    expect((await second).toString()).toBe('loaded after the delete')
    expect((await cache.get('k'))?.toString()).toBe('loaded after the delete')
  })

  it('keeps the value of a set() made while a load was in flight', async () => {
    const cache = tmpCache({ dir: join(root, 's') })
    const called = deferred()
    const result = deferred<string>()
    const load = cache.getOrLoad('k', () => {
      called.resolve()
      return result.promise
    })
    await called.promise
    await cache.set('k', 'newer, set by the caller')
    result.resolve('older, read before the set')
    await load
    expect((await cache.get('k'))?.toString()).toBe('newer, set by the caller')
  })
})

describe('getOrLoad under a time limit', () => {
  it('fails the callers of a loader that never settles at loadTimeout, and frees the key', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const recorder = recordEvents('tmp-cache.load-timeout')
    const cache = tmpCache({ dir: join(root, 't'), name: 'slow', loadTimeout: '2s' })
    const called = deferred()
    let signal: AbortSignal | undefined
    const first = cache.getOrLoad('k', (_key, s) => {
      signal = s
      called.resolve()
      return never<string>()
    })
    const joined = cache.getOrLoad('k', () => 'not called: joins the load in flight')
    const outcome = Promise.allSettled([first, joined])
    await called.promise
    await vi.advanceTimersByTimeAsync(2_000)
    const [a, b] = await outcome
    expect(a).toMatchObject({
      status: 'rejected',
      reason: { code: 'ERR_TMP_CACHE_LOAD_TIMEOUT', ms: 2_000, name: 'TmpCacheLoadTimeoutError' },
    })
    expect((a as PromiseRejectedResult).reason.message).toMatch(
      /^tmpCache "slow": the loader did not settle within 2000 ms/,
    )
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'ERR_TMP_CACHE_LOAD_TIMEOUT' } })
    expect(signal?.aborted).toBe(true)
    expect(recorder.events).toMatchObject([{ type: 'tmp-cache.load-timeout', cache: 'slow', ms: 2_000 }])
    recorder.stop()
    expect((await cache.getOrLoad('k', () => 'second load')).toString()).toBe('second load')
  })

  it('bounds a stream that stalls as well, destroys it, and never stores its late bytes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const cache = tmpCache({ dir: join(root, 'st'), loadTimeout: 1_000 })
    const body = new PassThrough()
    body.write('the first half, then nothing')
    const called = deferred()
    const load = cache
      .getOrLoad('k', () => {
        called.resolve()
        return body
      })
      .catch((error: unknown) => error)
    await called.promise
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await load).toMatchObject({ code: 'ERR_TMP_CACHE_LOAD_TIMEOUT', ms: 1_000 })
    expect(body.destroyed).toBe(true)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('rejects a loadTimeout that is not a duration, or longer than an invocation runs', () => {
    expect(() => tmpCache({ dir: join(root, 'o'), loadTimeout: 0 })).toThrow(/loadTimeout/)
    expect(() => tmpCache({ dir: join(root, 'o'), loadTimeout: '16m' })).toThrow(/loadTimeout/)
    expect(() => tmpCache({ dir: join(root, 'o'), loadTimeout: 'soon' as never })).toThrow(/loadTimeout/)
  })
})

describe('set with a stream that stalls', () => {
  it('is refused at loadTimeout, destroys the stream, and leaves the key free for the next set and delete', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const cache = tmpCache({ dir: join(root, 'ss'), name: 'slow', loadTimeout: 1_000 })
    await cache.set('k', 'the previous value')
    // Read once by the cache (so its time limit is running), then it never delivers again.
    const pulled = deferred()
    let pushed = false
    const body = new Readable({
      read() {
        if (!pushed) this.push('the first half, then nothing')
        pushed = true
        pulled.resolve()
      },
    })
    const stalled = cache.set('k', body).catch((error: unknown) => error)
    await pulled.promise
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await stalled).toMatchObject({
      code: 'ERR_TMP_CACHE_LOAD_TIMEOUT',
      ms: 1_000,
      message: expect.stringMatching(/^tmpCache "slow": the stream given to set did not end within 1000 ms/),
    })
    expect(body.destroyed).toBe(true)
    expect((await cache.get('k'))?.toString()).toBe('the previous value')
    expect(await readdir(cache.dir)).toHaveLength(1)
    await cache.set('k', 'a later value')
    expect((await cache.get('k'))?.toString()).toBe('a later value')
    expect(await cache.delete('k')).toBe(true)
  })
})

describe('getOrLoad with a loader that returns no value', () => {
  it('rejects with a typed error that names what came back, and stores nothing', async () => {
    const cache = tmpCache({ dir: join(root, 'v') })
    for (const bad of [undefined, null, 42, { body: 'x' }]) {
      await expect(cache.getOrLoad('k', () => bad as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(
          /^tmpCache "default": the loader returned (undefined|null|number|object)/,
        ),
      })
    }
    expect(cache.stats()).toMatchObject({ entries: 0 })
  })
})

// Last in the file: the invocation it tracks stays the current one for the tests after it.
describe('getOrLoad inside an invocation', () => {
  it("inside an invocation, gives a load no more than the invocation's remaining time less 100 ms", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    trackInvocation(lambdaContext({ remainingMs: 600, requestId: 'tmp-cache-load-timeout-1' }))
    const cache = tmpCache({ dir: join(root, 'i') })
    const called = deferred()
    const load = cache
      .getOrLoad('k', () => {
        called.resolve()
        return never<string>()
      })
      .catch((error: unknown) => error)
    await called.promise
    await vi.advanceTimersByTimeAsync(500)
    expect(await load).toMatchObject({ code: 'ERR_TMP_CACHE_LOAD_TIMEOUT' })
    expect(((await load) as { ms: number }).ms).toBeLessThanOrEqual(500)
  })
})

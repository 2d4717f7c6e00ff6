// Lambda Managed Instances: one process serves several invocations at once, each with its own
// deadline. A caller must never wait past its own deadline on work another invocation started.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { trackInvocation } from '@warmstart/core/internal'
import {
  deferred,
  flushMicrotasks,
  lambdaContext,
  type OverlappingInvocations,
  overlappingInvocations,
} from '@warmstart/testing/doubles'
import { TmpCacheKeyBusyError, tmpCache } from '@warmstart/tmp-cache'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as entryFile from '../src/entry-file.js'

// Reads of LARGE bytes wait at `largeRead` until the test lets them go: a large entry being read
// and hashed (2 to 3 ms per MB) without a clock in the test. An open of `missingOnce` finds nothing
// once: a get whose open came just before a set renamed the file into place.
const LARGE = 1_000_000
let largeRead = deferred()
let largeReading = deferred()
let missingOnce: string | undefined
vi.mock('../src/entry-file.js', async (importOriginal) => {
  const original = await importOriginal<typeof entryFile>()
  return {
    ...original,
    openRegular: async (path: string) => {
      if (path !== missingOnce) return original.openRegular(path)
      missingOnce = undefined
      return { kind: 'missing' } as const
    },
    readUpTo: async (file: Parameters<typeof original.readUpTo>[0], size: number) => {
      if (size >= LARGE) {
        largeReading.resolve()
        await largeRead.promise
      }
      return original.readUpTo(file, size)
    },
  }
})

let root: string
let store: OverlappingInvocations

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tmp-cache-mi-'))
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  store = overlappingInvocations()
})

afterEach(async () => {
  store.close()
  vi.useRealTimers()
  // Between invocations again: the tests after these have no invocation deadline.
  trackInvocation({ awsRequestId: 'between-invocations' })
  await rm(root, { recursive: true, force: true })
})

/** Runs `fn` inside invocation `requestId`, started with `remainingMs` left, as a middleware would. */
function during<T>(requestId: string, remainingMs: number, fn: () => T): T {
  return store.run(requestId, () => {
    trackInvocation(lambdaContext({ requestId, remainingMs }))
    return fn()
  })
}

/** A download that sends nothing until `finish(text)`; `reading` resolves once a writer reads it. */
function stalledStream(): { body: Readable; reading: Promise<void>; finish(text: string): void } {
  const read = deferred()
  const body = new Readable({ read: () => read.resolve() })
  return {
    body,
    reading: read.promise,
    finish: (text) => {
      body.push(text)
      body.push(null)
    },
  }
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

describe('tmpCache under managed instances', () => {
  it('a caller with less time left than a load in flight gives up alone; the load goes on', async () => {
    const cache = tmpCache({ dir: join(root, 'mi'), name: 'shared' })
    const called = deferred()
    const result = deferred<string>()
    const long = during('joins-long', 10_000, () =>
      cache.getOrLoad('k', () => {
        called.resolve()
        return result.promise
      }),
    )
    await called.promise
    const short = during('joins-short', 500, () =>
      cache.getOrLoad('k', () => 'not called: joins the load in flight').catch((error: unknown) => error),
    )
    await vi.advanceTimersByTimeAsync(400)
    const error = await short
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_LOAD_TIMEOUT', ms: 400, source: 'loader' })
    expect((error as Error).message).toMatch(
      /^tmpCache "shared": the load in flight did not settle within 400 ms/,
    )
    result.resolve('value')
    expect((await long).toString()).toBe('value')
    expect((await cache.get('k'))?.toString()).toBe('value')
  })

  it("a set or delete behind another invocation's stalled stream gives up by its own deadline, and is not done", async () => {
    const cache = tmpCache({ dir: join(root, 'busy'), name: 'shared' })
    const download = stalledStream()
    const long = outcome(during('long', 60_000, () => cache.set('k', download.body)))
    await download.reading
    const set = outcome(during('short-set', 500, () => cache.set('k', 'from the short invocation')))
    const del = outcome(during('short-delete', 800, () => cache.delete('k')))
    await flushMicrotasks()
    await vi.advanceTimersByTimeAsync(400)
    const { error } = (await set) as { error: unknown }
    expect(error).toBeInstanceOf(TmpCacheKeyBusyError)
    expect(error).toMatchObject({ code: 'ERR_TMP_CACHE_KEY_BUSY', ms: 400, operation: 'set' })
    expect((error as Error).message).toBe(
      'tmpCache "shared": an earlier write of this key was still running after 400 ms (loadTimeout, or what was left of the invocation); this set was not done',
    )
    await vi.advanceTimersByTimeAsync(300)
    expect(await del).toMatchObject({
      error: { code: 'ERR_TMP_CACHE_KEY_BUSY', ms: 700, operation: 'delete' },
    })
    // The stream goes on under its own limit; neither withdrawn call runs once it is done.
    download.finish('from the long invocation')
    expect(await long).toEqual({ value: undefined })
    expect((await cache.get('k'))?.toString()).toBe('from the long invocation')
    // The key is not left locked: the next set and delete run at once.
    await during('next', 500, () => cache.set('k', 'next'))
    expect((await cache.get('k'))?.toString()).toBe('next')
    expect(await during('next-delete', 500, () => cache.delete('k'))).toBe(true)
  })

  it("a getOrLoad whose store waits on another invocation's stalled stream returns its value unstored by its deadline", async () => {
    const cache = tmpCache({ dir: join(root, 'load'), name: 'shared' })
    const download = stalledStream()
    const long = outcome(during('long', 60_000, () => cache.set('k', download.body)))
    await download.reading
    const called = deferred()
    const loaded = outcome(
      during('loads', 2_000, () =>
        cache.getOrLoad('k', async () => {
          called.resolve()
          return 'loaded'
        }),
      ),
    )
    await called.promise
    await flushMicrotasks()
    await vi.advanceTimersByTimeAsync(1_900)
    expect(await loaded).toMatchObject({ value: Buffer.from('loaded') })
    download.finish('from the long invocation')
    await long
    expect((await cache.get('k'))?.toString()).toBe('from the long invocation')
  })

  it('reads of different keys do not wait for one another: a small entry is served while a large one is read', {
    timeout: 5_000,
  }, async () => {
    vi.useRealTimers()
    largeRead = deferred()
    largeReading = deferred()
    const cache = tmpCache({ dir: join(root, 'reads'), name: 'shared' })
    await cache.set('large', Buffer.alloc(LARGE, 7))
    await cache.set('small', 'small value')
    const order: string[] = []
    const large = during('reads-large', 60_000, () => cache.get('large')).then((value) => {
      order.push('large')
      return value
    })
    await largeReading.promise
    const small = await during('reads-small', 500, () => cache.get('small'))
    order.push('small')
    expect(small?.toString()).toBe('small value')
    largeRead.resolve()
    expect((await large)?.length).toBe(LARGE)
    expect(order).toEqual(['small', 'large'])
    expect(cache.stats()).toMatchObject({ hits: 2, entries: 2 })
  })
})

describe('a get reads outside the lock, and changes the index only for the file it read', () => {
  beforeEach(() => {
    largeRead = deferred()
    largeReading = deferred()
  })

  const onDisk = async (dir: string) => {
    const names = await readdir(dir)
    return (await Promise.all(names.map(async (name) => (await stat(join(dir, name))).size))).reduce(
      (a, b) => a + b,
      0,
    )
  }

  it('a get whose file a set replaces while it reads serves what it read, and leaves the count to the set', async () => {
    const cache = tmpCache({ dir: join(root, 'replaced') })
    await cache.set('k', Buffer.alloc(LARGE, 1))
    const reading = cache.get('k')
    await largeReading.promise
    await cache.set('k', 'new')
    largeRead.resolve()
    expect((await reading)?.length).toBe(LARGE)
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: await onDisk(cache.dir) })
    expect((await cache.get('k'))?.toString()).toBe('new')
  })

  it('a get whose file a delete removes while it reads does not bring the entry back', async () => {
    const cache = tmpCache({ dir: join(root, 'deleted') })
    await cache.set('k', Buffer.alloc(LARGE, 1))
    const reading = cache.get('k')
    await largeReading.promise
    expect(await cache.delete('k')).toBe(true)
    largeRead.resolve()
    // It began before the delete: what it read is what was stored then.
    expect((await reading)?.length).toBe(LARGE)
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
    expect(await cache.get('k')).toBeUndefined()
  })

  it('a get that found no file does not forget the entry a set has just renamed into place', async () => {
    const cache = tmpCache({ dir: join(root, 'appeared') })
    await cache.set('k', 'v')
    missingOnce = join(cache.dir, entryFile.fileNameOf('k'))
    expect(await cache.get('k')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: await onDisk(cache.dir) })
    expect((await cache.get('k'))?.toString()).toBe('v')
  })
})

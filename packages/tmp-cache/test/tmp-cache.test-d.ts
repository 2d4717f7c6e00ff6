import type { Readable } from 'node:stream'
import type { WarmstartError, WarmstartEventMap } from '@warmstart/core'
import {
  type TmpCache,
  type TmpCacheLoader,
  type TmpCacheLoadTimeoutError,
  type TmpCacheNoSpaceError,
  type TmpCacheStats,
  type TmpCacheTooLargeError,
  tmpCache,
} from '@warmstart/tmp-cache'
import { describe, expectTypeOf, it } from 'vitest'

describe('the public API of @warmstart/tmp-cache', () => {
  it('has typed get, set, getOrLoad, delete and stats', () => {
    const cache = tmpCache({ dir: '/tmp/x', maxBytes: '64mb', ttl: '1h', name: 'models' })
    expectTypeOf(cache).toEqualTypeOf<TmpCache>()
    expectTypeOf(cache.get).returns.resolves.toEqualTypeOf<Buffer | undefined>()
    expectTypeOf(cache.set).parameter(1).toEqualTypeOf<Buffer | Uint8Array | string | Readable>()
    expectTypeOf(cache.set).returns.resolves.toEqualTypeOf<void>()
    expectTypeOf(cache.getOrLoad).returns.resolves.toEqualTypeOf<Buffer>()
    expectTypeOf(cache.getOrLoad).parameter(1).toEqualTypeOf<TmpCacheLoader>()
    expectTypeOf<Parameters<TmpCacheLoader>>().toEqualTypeOf<[key: string, signal: AbortSignal]>()
    expectTypeOf(cache.delete).returns.resolves.toEqualTypeOf<boolean>()
    expectTypeOf(cache.stats()).toEqualTypeOf<TmpCacheStats>()
    expectTypeOf<keyof TmpCacheStats>().toEqualTypeOf<
      'hits' | 'misses' | 'evictions' | 'entries' | 'bytes' | 'corrupt'
    >()
  })

  it('has typed errors and events', () => {
    expectTypeOf<TmpCacheTooLargeError>().toMatchTypeOf<WarmstartError>()
    expectTypeOf<TmpCacheNoSpaceError>().toMatchTypeOf<WarmstartError>()
    expectTypeOf<TmpCacheTooLargeError['maxBytes']>().toEqualTypeOf<number>()
    expectTypeOf<TmpCacheLoadTimeoutError>().toMatchTypeOf<WarmstartError>()
    expectTypeOf<TmpCacheLoadTimeoutError['source']>().toEqualTypeOf<'loader' | 'set'>()
    expectTypeOf<WarmstartEventMap['tmp-cache.evict']['reason']>().toEqualTypeOf<
      'size' | 'space' | 'expired'
    >()
  })

  it('rejects wrong options', () => {
    // @ts-expect-error maxBytes is a size
    tmpCache({ maxBytes: true })
    // @ts-expect-error values are bytes, strings or streams
    void tmpCache().set('k', 42)
  })
})

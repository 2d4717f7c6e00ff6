import { type BoundedLru, boundedLru, type LruStats } from '@warmstart/lru'
import { describe, expectTypeOf, it } from 'vitest'

describe('boundedLru types', () => {
  it('keeps the key and value types through every method', () => {
    const cache = boundedLru<string, { id: number }>({ max: 10, maxBytes: '8mb', ttl: '5m' })
    expectTypeOf(cache).toEqualTypeOf<BoundedLru<string, { id: number }>>()
    expectTypeOf(cache.get('a')).toEqualTypeOf<{ id: number } | undefined>()
    expectTypeOf(cache.set('a', { id: 1 }, { ttl: 1000 })).toEqualTypeOf<boolean>()
    expectTypeOf(cache.getOrLoad('a', async () => ({ id: 2 }))).toEqualTypeOf<Promise<{ id: number }>>()
    expectTypeOf(cache.stats()).toEqualTypeOf<LruStats>()
    // @ts-expect-error the value type is fixed
    cache.set('a', 'not an object')
  })

  it('accepts sizes, shares of memory and durations, and a typed sizeOf', () => {
    boundedLru<string, Buffer>({ maxBytes: '10%', sizeOf: (value, key) => value.byteLength + key.length })
    boundedLru<string, string>({ maxBytes: 1024, ttl: 30_000 })
    // @ts-expect-error not a size
    boundedLru<string, string>({ maxBytes: 'big' })
  })
})

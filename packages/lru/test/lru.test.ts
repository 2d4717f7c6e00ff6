import { longLivedRoots } from '@warmstart/core/internal'
import { boundedLru, ENTRY_OVERHEAD_BYTES, estimateSize } from '@warmstart/lru'
import { fakeClock } from '@warmstart/testing'
import { recordEvents } from '@warmstart/testing/doubles'
import { afterEach, describe, expect, it, vi } from 'vitest'

const MEMORY = 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE'
const savedMemory = process.env[MEMORY]
afterEach(() => {
  if (savedMemory === undefined) delete process.env[MEMORY]
  else process.env[MEMORY] = savedMemory
})

const recordLruEvents = () => recordEvents('lru.')

describe('boundedLru basics', () => {
  it('gets, sets, has, deletes and clears, counting hits and misses', () => {
    const recorder = recordLruEvents()
    const cache = boundedLru<string, number>({ max: 10, name: 'basics' })
    expect(cache.name).toBe('basics')
    expect(cache.get('a')).toBeUndefined()
    expect(cache.set('a', 1)).toBe(true)
    expect(cache.get('a')).toBe(1)
    expect(cache.has('a')).toBe(true)
    expect(cache.has('b')).toBe(false)
    expect(cache.size).toBe(1)
    expect(cache.delete('a')).toBe(true)
    expect(cache.delete('a')).toBe(false)
    cache.set('b', 2)
    cache.set('c', 3)
    cache.clear()
    expect(cache.size).toBe(0)
    recorder.stop()
    expect(recorder.types()).toEqual(['lru.miss', 'lru.hit'])
    expect(recorder.events[0]).toMatchObject({ cache: 'basics' })
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 0, entries: 0 })
  })

  it('evicts the least recently used entry past max, and counts only evictions as such', () => {
    const recorder = recordLruEvents()
    const cache = boundedLru<string, string>({ max: 2 })
    cache.set('a', 'A')
    cache.set('b', 'B')
    cache.get('a')
    cache.set('c', 'C')
    expect(cache.has('b')).toBe(false)
    expect([...cache.entries()]).toEqual([
      ['c', 'C'],
      ['a', 'A'],
    ])
    cache.set('a', 'A2')
    cache.delete('c')
    recorder.stop()
    expect(cache.stats().evictions).toBe(1)
    expect(recorder.types().filter((type) => type === 'lru.evict')).toHaveLength(1)
  })

  it('keeps the estimated bytes within maxBytes, evicting the oldest', () => {
    const cache = boundedLru<string, string>({ maxBytes: 1000 })
    for (let i = 0; i < 20; i++) cache.set(`key-${i}`, 'x'.repeat(100))
    const stats = cache.stats()
    expect(stats.bytes).toBeLessThanOrEqual(1000)
    expect(stats.bytes).toBeGreaterThan(500)
    expect(stats.evictions).toBe(20 - stats.entries)
    expect(cache.has('key-19')).toBe(true)
    expect(cache.has('key-0')).toBe(false)
  })

  it('refuses an entry larger than maxBytes instead of flushing the cache, and drops the old value of its key', () => {
    const recorder = recordLruEvents()
    const cache = boundedLru<string, string>({ maxBytes: '1kb', name: 'small' })
    cache.set('keep', 'k')
    cache.set('big', 'b')
    expect(cache.set('big', 'x'.repeat(2000))).toBe(false)
    expect(cache.has('big')).toBe(false)
    expect(cache.get('keep')).toBe('k')
    recorder.stop()
    expect(recorder.events.find((event) => event.type === 'lru.refused')).toMatchObject({
      cache: 'small',
      size: expect.any(Number),
      maxBytes: 1024,
    })
    expect(cache.stats()).toMatchObject({ refused: 1, entries: 1, evictions: 0 })
  })

  it('uses a custom sizeOf, and rejects a size that is not a number of bytes', () => {
    const sizeOf = vi.fn((value: { weight: number }) => value.weight)
    const cache = boundedLru<string, { weight: number }>({ maxBytes: 10, sizeOf })
    cache.set('a', { weight: 4 })
    cache.set('b', { weight: 4.5 })
    expect(sizeOf).toHaveBeenCalledWith({ weight: 4 }, 'a')
    expect(cache.stats().bytes).toBe(9)
    cache.set('c', { weight: 0 })
    expect(cache.stats().bytes).toBe(10)
    for (const weight of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(() => cache.set('d', { weight })).toThrow(
        expect.objectContaining({ code: 'ERR_LRU_INVALID_SIZE' }),
      )
    }
    const stringly = boundedLru<string, string>({
      maxBytes: 10,
      sizeOf: (() => '3') as unknown as () => number,
    })
    expect(() => stringly.set('a', 'b')).toThrow(expect.objectContaining({ code: 'ERR_LRU_INVALID_SIZE' }))
  })

  it('reports the bytes held when only max bounds it, with the same estimate', () => {
    const cache = boundedLru<string, string>({ max: 5 })
    const sized = boundedLru<string, string>({ max: 5, maxBytes: '1mb' })
    for (const target of [cache, sized]) {
      target.set('a', 'hello')
      target.set('b', 'x'.repeat(50))
    }
    expect(cache.stats().bytes).toBe(sized.stats().bytes)
    expect(cache.stats().bytes).toBeGreaterThan(110)
  })

  it("counts the cache's own memory for each entry in the default estimate, and leaves a sizeOf's count as it is", () => {
    const cache = boundedLru<string, number>({ maxBytes: '1mb' })
    cache.set('a', 1)
    expect(cache.stats().bytes).toBe(estimateSize('a') + estimateSize(1) + ENTRY_OVERHEAD_BYTES)
    const counted = boundedLru<string, number>({ maxBytes: 3, sizeOf: () => 1 })
    for (const key of ['a', 'b', 'c', 'd']) counted.set(key, 1)
    expect(counted.stats()).toMatchObject({ entries: 3, bytes: 3 })
  })
})

describe('boundedLru TTL', () => {
  it('judges the TTL by the clock at the moment of each read', () => {
    const clock = fakeClock()
    const cache = boundedLru<string, string>({ max: 10, ttl: '1m', clock })
    cache.set('flags', 'on')
    clock.advance('59s')
    expect(cache.get('flags')).toBe('on')
    expect(cache.has('flags')).toBe(true)
    clock.advance('2s')
    expect(cache.has('flags')).toBe(false)
    expect(cache.get('flags')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, evictions: 0 })
  })

  it('takes a TTL per entry, with or without a default and a byte budget', () => {
    const clock = fakeClock()
    const cache = boundedLru<string, string>({ max: 10, clock })
    cache.set('forever', 'a')
    cache.set('brief', 'b', { ttl: 1000 })
    cache.set('also forever', 'd', {})
    const sized = boundedLru<string, string>({ maxBytes: '1mb', ttl: '1h', clock })
    sized.set('brief', 'b', { ttl: '1s' })
    sized.set('long', 'c')
    clock.advance(1001)
    expect(cache.get('brief')).toBeUndefined()
    expect(sized.get('brief')).toBeUndefined()
    expect(cache.get('forever')).toBe('a')
    expect(cache.get('also forever')).toBe('d')
    expect(sized.get('long')).toBe('c')
    expect(() => cache.set('x', 'y', { ttl: 'soon' as '1s' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})

describe('boundedLru and a wall clock stepped back', () => {
  it('does not stretch a TTL by the step: entries with a TTL count as expired, and time goes on from there', () => {
    const clock = fakeClock()
    const cache = boundedLru<string, string>({ max: 10, ttl: '5m', clock })
    cache.set('flags', 'on')
    cache.set('brief', 'b', { ttl: '30s' })
    cache.set('year', 'y', { ttl: '365d' })
    const forever = boundedLru<string, string>({ max: 10, clock })
    forever.set('kept', 'k')
    forever.set('timed', 't', { ttl: '1h' })
    clock.advance('10s')
    expect(cache.get('flags')).toBe('on')
    // An hour back (an NTP step, a host's time set): how long ago each entry was set is unknown.
    clock.set(clock.now() - 3_600_000)
    expect(cache.get('flags')).toBeUndefined()
    expect(cache.get('brief')).toBeUndefined()
    expect(cache.get('year')).toBeUndefined()
    expect(forever.get('timed')).toBeUndefined()
    // An entry without a TTL does not expire, whatever the clock does.
    expect(forever.get('kept')).toBe('k')
    // Set after the step, an entry lives its whole TTL at the clock's pace.
    cache.set('flags', 'off')
    clock.advance('4m')
    expect(cache.get('flags')).toBe('off')
    clock.advance('61s')
    expect(cache.get('flags')).toBeUndefined()
  })
})

describe('boundedLru getOrLoad', () => {
  it('shares one load between concurrent callers and caches its result', async () => {
    const cache = boundedLru<string, { id: string }>({ max: 10 })
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const loader = vi.fn(async (key: string) => {
      await gate
      return { id: key }
    })
    const calls = Array.from({ length: 25 }, () => cache.getOrLoad('u-1', loader))
    release()
    const values = await Promise.all(calls)
    expect(new Set(values).size).toBe(1)
    expect(loader).toHaveBeenCalledTimes(1)
    await expect(cache.getOrLoad('u-1', loader)).resolves.toBe(values[0])
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('does not cache a rejection or a synchronous throw: the next call loads again', async () => {
    const cache = boundedLru<string, string>({ max: 10 })
    const failure = new Error('table missing')
    await expect(cache.getOrLoad('k', async () => Promise.reject(failure))).rejects.toBe(failure)
    await expect(
      cache.getOrLoad('k', () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(cache.has('k')).toBe(false)
    await expect(cache.getOrLoad('k', () => 'v')).resolves.toBe('v')
    expect(cache.get('k')).toBe('v')
  })

  it('does not store a load that a delete() or clear() overtook', async () => {
    const cache = boundedLru<string, string>({ max: 10 })
    let release!: (value: string) => void
    const slow = cache.getOrLoad('k', () => new Promise<string>((resolve) => (release = resolve)))
    await Promise.resolve()
    cache.delete('k')
    const fresh = cache.getOrLoad('k', async () => 'fresh')
    await expect(fresh).resolves.toBe('fresh')
    release('old')
    await expect(slow).resolves.toBe('old')
    expect(cache.get('k')).toBe('fresh')
    let fail!: (error: Error) => void
    const failing = cache.getOrLoad('j', () => new Promise<string>((_, reject) => (fail = reject)))
    await Promise.resolve()
    cache.clear()
    const next = cache.getOrLoad('j', async () => 'next')
    fail(new Error('late'))
    await expect(failing).rejects.toThrow('late')
    await expect(next).resolves.toBe('next')
  })

  it('keeps the value of a set() made while a load was in flight: the load read an older one', async () => {
    const cache = boundedLru<string, string>({ max: 10, maxBytes: '1mb' })
    let release!: (value: string) => void
    const slow = cache.getOrLoad('k', () => new Promise<string>((resolve) => (release = resolve)))
    await Promise.resolve()
    cache.set('k', 'newer, set by the caller')
    release('older, read before the set')
    await expect(slow).resolves.toBe('older, read before the set')
    expect(cache.get('k')).toBe('newer, set by the caller')
    // The set ended the load's claim on the key: the next getOrLoad is a hit, not a join.
    await expect(cache.getOrLoad('k', () => 'not called')).resolves.toBe('newer, set by the caller')
  })

  it('rejects a loader that returns nothing', async () => {
    const cache = boundedLru<string, string>({ max: 10, name: 'users' })
    await expect(cache.getOrLoad('k', async () => undefined as unknown as string)).rejects.toMatchObject({
      code: 'ERR_LRU_EMPTY_VALUE',
      message: expect.stringContaining('"users"'),
    })
    expect(cache.has('k')).toBe(false)
  })
})

describe('boundedLru and the leak guard', () => {
  it('registers itself so its live entries can be read', () => {
    const cache = boundedLru<string, string>({ max: 10, name: 'sessions' })
    cache.set('u-123', 'token')
    const root = longLivedRoots().find((candidate) => candidate.name === 'lru:sessions')
    expect(root?.target()).toBe(cache)
    expect([...(root?.entries() ?? [])]).toEqual([['u-123', 'token']])
    boundedLru<string, string>({ max: 1, name: 'sessions' })
    expect(longLivedRoots().some((candidate) => candidate.name === 'lru:sessions#2')).toBe(true)
  })

  it('gives a revision that changes on every store and on nothing else', () => {
    const cache = boundedLru<string, string>({ max: 2, name: 'revisions' })
    const root = longLivedRoots().find((candidate) => candidate.target() === cache)
    const start = root?.revision()
    expect(start).toBeTypeOf('number')
    cache.set('a', '1')
    const afterSet = root?.revision()
    expect(afterSet).not.toBe(start)
    cache.get('a')
    cache.has('a')
    cache.delete('a')
    expect(root?.revision()).toBe(afterSet)
    cache.set('b', '2', { ttl: 1000 })
    expect(root?.revision()).not.toBe(afterSet)
  })
})

describe('boundedLru options', () => {
  it('takes maxBytes as a share of the function memory', () => {
    process.env[MEMORY] = '128'
    const cache = boundedLru<string, string>({ maxBytes: '10%', sizeOf: () => 13_421_772 })
    expect(cache.set('a', 'fits')).toBe(true)
    const tight = boundedLru<string, string>({ maxBytes: '10%', sizeOf: () => 13_421_773 })
    expect(tight.set('a', 'too big')).toBe(false)
  })

  it.each([
    ['unset', undefined],
    ['empty', ' '],
    ['not a number', 'lots'],
    ['zero', '0'],
  ])('explains a share of memory when AWS_LAMBDA_FUNCTION_MEMORY_SIZE is %s', (_case, memory) => {
    if (memory === undefined) delete process.env[MEMORY]
    else process.env[MEMORY] = memory
    expect(() => boundedLru({ maxBytes: '10%' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining('AWS_LAMBDA_FUNCTION_MEMORY_SIZE'),
      }),
    )
  })

  it.each([
    ['an unbounded cache', 'max', {}],
    ['a ttl alone', 'max', { ttl: '5m' }],
    ['a fractional max', 'max', { max: 1.5 }],
    ['a zero max', 'max', { max: 0 }],
    ['a size string it cannot read', 'maxBytes', { maxBytes: 'eight megabytes' }],
    ['a zero maxBytes', 'maxBytes', { maxBytes: 0 }],
    ['a share over 100%', 'maxBytes', { maxBytes: '150%' }],
    ['a share of 0%', 'maxBytes', { maxBytes: '0%' }],
    ['a bad ttl', 'ttl', { max: 1, ttl: 'later' }],
    ['a zero ttl', 'ttl', { max: 1, ttl: 0 }],
    ['a sizeOf that is not a function', 'sizeOf', { max: 1, sizeOf: 8 }],
    ['an empty name', 'name', { max: 1, name: '' }],
    ['a clock without now()', 'clock', { max: 1, clock: {} }],
    ['a zero loadTimeout', 'loadTimeout', { max: 1, loadTimeout: 0 }],
    ['a loadTimeout longer than any invocation', 'loadTimeout', { max: 1, loadTimeout: '16m' }],
    ['a loadTimeout it cannot read', 'loadTimeout', { max: 1, loadTimeout: 'soon' }],
    ['a requestKeyed that is not a boolean', 'requestKeyed', { max: 1, requestKeyed: 'yes' }],
    ['a misspelt option', 'maxByte', { max: 1, maxByte: '8mb' }],
  ])('refuses %s', (_case, option, options) => {
    expect(() => boundedLru(options as Parameters<typeof boundedLru>[0])).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: expect.stringContaining(`"${option}"`),
      }),
    )
  })

  it('names the option a misspelt one was meant to be', () => {
    expect(() => boundedLru({ maxByte: '8mb' } as never)).toThrow(
      /^boundedLru: option "maxByte" is not an option \(did you mean "maxBytes"\?\); allowed: max, maxBytes, ttl, sizeOf, name, clock, loadTimeout, requestKeyed/,
    )
    expect(() => boundedLru({ max: 1, loadTimeout: '15m' })).not.toThrow()
  })

  it('refuses options that are not an object', () => {
    expect(() => boundedLru(null as unknown as { max: number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})

import { onEvent, WarmstartError, type WarmstartEvent } from '@warmstart/core'
import { longLivedRoots } from '@warmstart/core/internal'
import { ssmParameters, ttlCache } from '@warmstart/params'
import { fakeClock } from '@warmstart/testing'
import { recordingLogger } from '@warmstart/testing/doubles'
import { afterEach, describe, expect, it } from 'vitest'
import { warnings } from './warnings.js'

function recordEvents(): { events: WarmstartEvent[]; stop: () => void } {
  const events: WarmstartEvent[] = []
  const stop = onEvent((event) => events.push(event))
  return { events, stop }
}

function counter<T>(values: () => T): { load: () => Promise<T>; calls: () => number } {
  let calls = 0
  return {
    load: async () => {
      calls++
      return values()
    },
    calls: () => calls,
  }
}

let stopEvents: (() => void) | undefined
afterEach(() => stopEvents?.())

describe('ttlCache', () => {
  it('fetches once per TTL and again after expiry, judged by the clock at each read', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ ttl: '5m', clock })
    let n = 0
    const source = counter(() => ++n)
    expect(await cache.get('k', source.load)).toBe(1)
    clock.advance('4m')
    expect(await cache.get('k', source.load)).toBe(1)
    clock.advance('1m')
    expect(await cache.get('k', source.load)).toBe(2)
    expect(source.calls()).toBe(2)
    expect(cache.stats()).toMatchObject({ entries: 1, hits: 1, misses: 2, refreshes: 1 })
  })

  it('takes a per-entry TTL, milliseconds and forever', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ ttl: 1000, clock })
    const source = counter(() => 1)
    await cache.get('short', source.load, { ttl: 10 })
    await cache.get('forever', source.load, { ttl: 'forever' })
    await cache.get('infinite', source.load, { ttl: Number.POSITIVE_INFINITY })
    clock.advance('3650d')
    await cache.get('short', source.load)
    await cache.get('forever', source.load)
    await cache.get('infinite', source.load)
    expect(source.calls()).toBe(4)
  })

  it('makes one request for 50 concurrent reads of a missing key, and for concurrent reads of an expired one', async () => {
    const clock = fakeClock()
    const cache = ttlCache<string>({ clock })
    const source = counter(() => 'v')
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', source.load)))
    expect(values).toEqual(Array(50).fill('v'))
    clock.advance('6m')
    await Promise.all(Array.from({ length: 50 }, () => cache.get('k', source.load)))
    expect(source.calls()).toBe(2)
  })

  it('spreads TTLs by ±jitter using the injected random', async () => {
    const clock = fakeClock()
    const start = clock.now()
    const expiries: number[] = []
    for (const random of [0, 0.5, 0.999999]) {
      const cache = ttlCache<number>({ ttl: 100_000, jitter: 0.1, clock, random: () => random })
      await cache.get('k', async () => 1)
      // Find the expiry by probing: the first advance at which the loader runs again.
      let expiry = 0
      for (let at = 85_000; at <= 115_000; at += 1000) {
        clock.set(start + at)
        let loaded = false
        await cache.get('k', async () => {
          loaded = true
          return 2
        })
        if (loaded) {
          expiry = at
          break
        }
      }
      expiries.push(expiry)
      clock.set(start)
    }
    expect(expiries).toEqual([90_000, 100_000, 110_000])
  })

  it('shares one jitter draw among the keys fetched in one tick, so that they expire together', async () => {
    const clock = fakeClock()
    const draws = [0, 0.999999]
    let drawn = 0
    const cache = ttlCache<string>({ ttl: 100_000, jitter: 0.1, clock, random: () => draws[drawn++] ?? 0.5 })
    await Promise.all(['a', 'b', 'c'].map((key) => cache.get(key, async () => key)))
    await cache.get('d', async () => 'd')
    expect(drawn).toBe(2)
    clock.advance(95_000) // a, b, c expired at 90s; d lives until 110s
    const loaded: string[] = []
    const load = async (key: string) => {
      loaded.push(key)
      return key
    }
    await Promise.all(['a', 'b', 'c', 'd'].map((key) => cache.get(key, load)))
    expect(loaded).toEqual(['a', 'b', 'c'])
  })

  it('refreshes ahead: serves the current value, refreshes once, and settle() awaits it', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ ttl: 100_000, refreshAhead: 0.2, clock })
    let n = 0
    const source = counter(() => ++n)
    await cache.get('k', source.load)
    clock.advance(79_000)
    expect(await cache.get('k', source.load)).toBe(1)
    expect(source.calls()).toBe(1)
    clock.advance(2_000)
    expect(await Promise.all([cache.get('k', source.load), cache.get('k', source.load)])).toEqual([1, 1])
    // While a refresh runs ahead, the leak guard is told it cannot skip the cache.
    const root = longLivedRoots().find((r) => r.target() === cache)
    expect(root?.revision()).toBeUndefined()
    await cache.settle()
    expect(root?.revision()).toBeTypeOf('number')
    expect(source.calls()).toBe(2)
    expect(await cache.get('k', source.load)).toBe(2)
    await cache.settle()
  })

  it('keeps the current value when a refresh ahead fails, and reports it', async () => {
    const clock = fakeClock()
    const { lines, logger } = warnings()
    const recorder = recordEvents()
    stopEvents = recorder.stop
    const cache = ttlCache<number>({ name: 'ahead', ttl: 100_000, refreshAhead: 0.5, clock, logger })
    await cache.get('k', async () => 1)
    clock.advance(60_000)
    const failing = async (): Promise<number> => {
      throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' })
    }
    expect(await cache.get('k', failing)).toBe(1)
    await cache.settle()
    // Backing off (at most 1 s after a first failure): no second refresh yet.
    expect(await cache.get('k', failing)).toBe(1)
    clock.advance(1_000)
    expect(await cache.get('k', failing)).toBe(1)
    await cache.settle()
    // One warning for the run of failures, with no value in it.
    expect(lines).toHaveLength(1)
    expect(lines[0]?.details).toEqual({
      cache: 'ahead',
      key: 'k',
      code: 'ThrottlingException',
      ageMs: 60_000,
    })
    expect(recorder.events.filter((e) => e.type === 'cache.refresh-failed').length).toBe(2)
  })

  it('a refresh ahead that fails after the value expired rejects only its joiners; settle() still resolves', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ ttl: 100_000, refreshAhead: 0.5, clock })
    await cache.get('k', async () => 1)
    clock.advance(60_000)
    let fail: (error: Error) => void = () => {}
    expect(await cache.get('k', () => new Promise<number>((_, reject) => (fail = reject)))).toBe(1)
    clock.advance(50_000)
    const joiner = cache.get('k', async () => 3)
    fail(new Error('late failure'))
    await expect(joiner).rejects.toMatchObject({ code: 'ERR_PARAMS_FETCH' })
    await cache.settle()
    expect(await cache.get('k', async () => 4)).toBe(4)
  })

  it('serves a stale value within staleIfError when a refresh fails, reporting key and code but never the value', async () => {
    const clock = fakeClock()
    const { lines, logger } = warnings()
    const recorder = recordEvents()
    stopEvents = recorder.stop
    const cache = ttlCache<string>({ name: 'cfg', ttl: '1m', staleIfError: '10m', clock, logger })
    await cache.get('k', async () => 'secret-value-123')
    clock.advance('5m')
    const failing = async (): Promise<string> => {
      throw Object.assign(new Error('boom'), { name: 'InternalServerError' })
    }
    expect(await cache.get('k', failing)).toBe('secret-value-123')
    expect(lines).toHaveLength(1)
    expect(lines[0]?.details).toMatchObject({
      cache: 'cfg',
      key: 'k',
      code: 'InternalServerError',
      ageMs: 300_000,
    })
    expect(JSON.stringify(lines)).not.toContain('secret-value-123')
    const types = recorder.events.map((event) => event.type)
    expect(types).toEqual([
      'cache.miss',
      'cache.miss',
      'cache.refresh',
      'cache.refresh-failed',
      'cache.stale-served',
    ])
    expect(cache.stats().staleServed).toBe(1)
    expect(JSON.stringify(recorder.events)).not.toContain('secret-value-123')

    // Past expiry + staleIfError: a typed error with the cause, and the next read tries again.
    clock.advance('6m')
    const error = await cache.get('k', failing).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_PARAMS_FETCH',
      key: 'k',
      cache: 'cfg',
      reason: 'InternalServerError',
    })
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(await cache.get('k', async () => 'new')).toBe('new')
  })

  it('never caches a rejection, and passes warmstart errors through unwrapped', async () => {
    const cache = ttlCache<string>({ clock: fakeClock() })
    const typed = new WarmstartError('ERR_PARAMETER_NOT_FOUND', 'missing')
    await expect(cache.get('k', () => Promise.reject(typed))).rejects.toBe(typed)
    expect(cache.stats().entries).toBe(0)
    await expect(
      cache.get('k', () => {
        throw new Error('sync throw')
      }),
    ).rejects.toMatchObject({ code: 'ERR_PARAMS_FETCH', reason: 'Error' })
    expect(await cache.get('k', async () => 'ok')).toBe('ok')
  })

  it('refresh(key) forces a fetch with the last loader or a new one; unknown keys need a loader', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ clock })
    let n = 0
    const source = counter(() => ++n)
    await expect(cache.refresh('k')).rejects.toMatchObject({ code: 'ERR_CACHE_UNKNOWN_KEY' })
    expect(await cache.refresh('k', source.load)).toBe(1)
    expect(await cache.refresh('k')).toBe(2)
    expect(await cache.refresh('k', async () => 10)).toBe(10)
    expect(await cache.get('k', source.load)).toBe(10)
    // A failed forced refresh rejects (the caller knows the value is wrong) and keeps the entry.
    await expect(cache.refresh('k', () => Promise.reject(new Error('down')))).rejects.toMatchObject({
      code: 'ERR_PARAMS_FETCH',
    })
    expect(await cache.get('k', source.load)).toBe(10)
  })

  it('a forced refresh wins over a fetch already in flight', async () => {
    const cache = ttlCache<string>({ clock: fakeClock() })
    let release: (value: string) => void = () => {}
    const slow = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)))
    expect(await cache.refresh('k', async () => 'rotated')).toBe('rotated')
    release('old')
    expect(await slow).toBe('old')
    expect(await cache.get('k', async () => 'unused')).toBe('rotated')
  })

  it('a first fetch that fails after a forced refresh replaced it leaves the entry to that refresh', async () => {
    const cache = ttlCache<string>({ clock: fakeClock() })
    let fail: (error: Error) => void = () => {}
    let release: (value: string) => void = () => {}
    const first = cache.get('k', () => new Promise<string>((_, reject) => (fail = reject)))
    const forced = cache.refresh('k', () => new Promise<string>((resolve) => (release = resolve)))
    fail(new Error('down'))
    await expect(first).rejects.toMatchObject({ code: 'ERR_PARAMS_FETCH' })
    // The forced refresh is still the key's fetch: a read joins it, and what it brings is cached.
    const source = counter(() => 'unused')
    const joined = cache.get('k', source.load)
    release('rotated')
    expect(await forced).toBe('rotated')
    expect(await joined).toBe('rotated')
    expect(await cache.get('k', source.load)).toBe('rotated')
    expect(source.calls()).toBe(0)
  })

  it('a refresh that fails after a forced one stored a new value serves that value, and starts no backoff', async () => {
    const clock = fakeClock()
    const logger = recordingLogger()
    const cache = ttlCache<string>({ clock, ttl: 1000, staleIfError: '1h', logger })
    await cache.get('k', async () => 'v1')
    clock.advance(2000)
    let fail: (error: Error) => void = () => {}
    const expired = cache.get('k', () => new Promise<string>((_, reject) => (fail = reject)))
    expect(await cache.refresh('k', async () => 'v2')).toBe('v2')
    fail(new Error('down'))
    expect(await expired).toBe('v2')
    // No outage to report: the key's value is fresh, and its own refreshes have not failed.
    expect(logger.lines).toEqual([])
  })

  it('invalidate and clear forget keys; a fetch finishing after invalidate does not come back', async () => {
    const cache = ttlCache<string>({ clock: fakeClock() })
    await cache.get('a', async () => 'A')
    expect(cache.invalidate('a')).toBe(true)
    expect(cache.invalidate('a')).toBe(false)
    let release: (value: string) => void = () => {}
    const pending = cache.get('b', () => new Promise<string>((resolve) => (release = resolve)))
    cache.clear()
    release('B')
    expect(await pending).toBe('B')
    expect(cache.stats().entries).toBe(0)
  })

  it('registers as long-lived state listing key/value pairs', async () => {
    const cache = ttlCache<string>({ name: 'registry-test', clock: fakeClock() })
    await cache.get('/app/a', async () => 'va')
    const root = longLivedRoots().find((r) => r.name === 'ttl:registry-test')
    expect(root?.target()).toBe(cache)
    expect([...(root?.entries() ?? [])]).toEqual([['/app/a', 'va']])
  })

  it('gives a revision that changes when a value is stored, not when one is read', async () => {
    const clock = fakeClock()
    const cache = ttlCache<string>({ name: 'revision-test', clock, ttl: 1000, jitter: 0 })
    const root = longLivedRoots().find((r) => r.target() === cache)
    const start = root?.revision()
    await cache.get('k', async () => 'v1')
    const stored = root?.revision()
    expect(stored).not.toBe(start)
    await cache.get('k', async () => 'unused')
    expect(root?.revision()).toBe(stored)
    let release: (value: string) => void = () => {}
    const refreshing = cache.refresh('k', () => new Promise<string>((resolve) => (release = resolve)))
    expect(root?.revision()).toBe(stored)
    release('v2')
    await refreshing
    expect(root?.revision()).not.toBe(stored)
    expect(root?.revision()).toBeTypeOf('number')
  })

  it('emits hit and miss events', async () => {
    const recorder = recordEvents()
    stopEvents = recorder.stop
    const cache = ttlCache<string>({ name: 'ev', clock: fakeClock() })
    await cache.get('k', async () => 'v')
    await cache.get('k', async () => 'v')
    expect(recorder.events.map((e) => [e.type, 'key' in e ? e.key : ''])).toEqual([
      ['cache.miss', 'k'],
      ['cache.hit', 'k'],
    ])
  })

  it("rejects a bad per-read ttl whether or not the key is cached, and a ref's when it is made", async () => {
    const cache = ttlCache<string>({ clock: fakeClock() })
    const source = counter(() => 'v')
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_OPTION' })
    await expect(cache.get('k', source.load, { ttl: '5 minutes' as never })).rejects.toMatchObject(invalid)
    expect(await cache.get('k', source.load)).toBe('v')
    // A hit: the value is there, the option is still wrong.
    await expect(cache.get('k', source.load, { ttl: '5 minutes' as never })).rejects.toMatchObject(invalid)
    await expect(cache.get('k', source.load, { ttl: -1 })).rejects.toMatchObject(invalid)
    expect(await cache.get('k', source.load, { ttl: '1m' })).toBe('v')
    expect(source.calls()).toBe(1)
    // Through a provider: a read of a name the middleware already warmed, and a ref.
    const ssm = ssmParameters({ endpoint: 'http://127.0.0.1:9', clock: fakeClock() })
    expect(() => ssm.ref('/x', { ttl: '5 minutes' as never })).toThrow(invalid)
  })

  it('rejects a loader that is not a function on every read, hit or joiner, and never keeps it for a refresh', async () => {
    const clock = fakeClock()
    const cache = ttlCache<number>({ ttl: 100_000, refreshAhead: 0.5, clock })
    const source = counter(() => 1)
    const invalid = expect.objectContaining({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(/load/),
    })
    // A joiner of the first fetch, then a fresh hit: both still have a value, the loader is still wrong.
    const first = cache.get('k', source.load)
    await expect(cache.get('k', 'not a loader' as never)).rejects.toEqual(invalid)
    expect(await first).toBe(1)
    await expect(cache.get('k', null as never)).rejects.toEqual(invalid)
    // A hit at the refresh-ahead point would have kept the bad loader for the refresh it starts.
    clock.advance(60_000)
    await expect(cache.get('k', {} as never)).rejects.toEqual(invalid)
    await expect(cache.refresh('k', 42 as never)).rejects.toEqual(invalid)
    await cache.settle()
    expect(cache.stats()).toMatchObject({ failures: 0, refreshes: 0 })
    expect(await cache.get('k', source.load)).toBe(1)
    await cache.settle()
    expect(source.calls()).toBe(2)
    expect(await cache.refresh('k')).toBe(1)
    expect(source.calls()).toBe(3)
  })

  it('validates its options', () => {
    const bad: unknown[] = [
      null,
      { name: '' },
      { ttl: -1 },
      { ttl: '5 minutes' },
      { jitter: 1 },
      { jitter: -0.1 },
      { refreshAhead: 1 },
      { staleIfError: 'x' },
      { clock: {} },
      { random: 1 },
    ]
    for (const options of bad) {
      expect(() => ttlCache(options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    }
    expect(() => ttlCache({ jitter: 2 })).toThrow(/jitter.*0\.1/)
    // 0 would fail every fetch at once (to pg and many HTTP clients, 0 means no limit).
    expect(() => ttlCache({ fetchTimeout: 0 })).toThrow(
      'ttlCache: option "fetchTimeout" must be more than 0 ms and at most \'15m\', the longest a Lambda invocation runs (got 0)',
    )
    expect(() => ttlCache({ fetchTimeout: '1h' })).toThrow(/option "fetchTimeout" must be more than 0 ms/)
  })
})
